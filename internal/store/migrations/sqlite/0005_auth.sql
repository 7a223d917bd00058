-- Users of the API and the console. email is stored lower-cased, so its
-- uniqueness is case-insensitive; senha_hash is an argon2id PHC string.
-- versao_sessao grows whenever the user's password, role or active flag
-- changes: access tokens carry it and stop verifying when it moves.
CREATE TABLE auth_usuarios (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    nome          TEXT NOT NULL,
    email         TEXT NOT NULL UNIQUE,
    papel         TEXT NOT NULL,
    ativo         INTEGER NOT NULL DEFAULT 1,
    senha_hash    TEXT NOT NULL,
    versao_sessao BIGINT NOT NULL DEFAULT 1,
    criado_em     BIGINT NOT NULL,
    atualizado_em BIGINT NOT NULL
);
CREATE INDEX auth_usuarios_papel ON auth_usuarios (papel, ativo);

-- A refresh-token family is one login: each refresh replaces its token by
-- a new one in the same family. Revoking the family ends the session.
CREATE TABLE auth_refresh_familias (
    id          TEXT PRIMARY KEY,
    usuario_id  BIGINT NOT NULL,
    criada_em   BIGINT NOT NULL,
    revogada_em BIGINT,
    motivo      TEXT NOT NULL DEFAULT ''
);
CREATE INDEX auth_refresh_familias_usuario ON auth_refresh_familias (usuario_id);

-- Refresh tokens, by the hex SHA-256 of the token (never the token).
CREATE TABLE auth_refresh_tokens (
    hash       TEXT PRIMARY KEY,
    familia_id TEXT NOT NULL,
    usuario_id BIGINT NOT NULL,
    criado_em  BIGINT NOT NULL,
    expira_em  BIGINT NOT NULL,
    usado_em   BIGINT
);
CREATE INDEX auth_refresh_tokens_familia ON auth_refresh_tokens (familia_id);
CREATE INDEX auth_refresh_tokens_expira ON auth_refresh_tokens (expira_em);

-- API keys of devices (door scanners, PDV terminals): the hex SHA-256 of
-- the secret, the scopes as a JSON array of permissions.
CREATE TABLE auth_chaves (
    id            TEXT PRIMARY KEY,
    nome          TEXT NOT NULL,
    escopos       TEXT NOT NULL,
    segredo_hash  TEXT NOT NULL,
    criada_em     BIGINT NOT NULL,
    criada_por    TEXT NOT NULL,
    ultimo_uso_em BIGINT,
    revogada_em   BIGINT
);

-- The audit log: who did what to what, from where, and how it ended.
CREATE TABLE auditoria (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    quando    BIGINT NOT NULL,
    quem_tipo TEXT NOT NULL,
    quem_id   TEXT NOT NULL,
    quem_nome TEXT NOT NULL,
    acao      TEXT NOT NULL,
    alvo      TEXT NOT NULL,
    ip        TEXT NOT NULL,
    resultado TEXT NOT NULL,
    detalhe   TEXT NOT NULL
);
CREATE INDEX auditoria_quando ON auditoria (quando);
