-- Every QR code issued: what it encodes (and a hash to find it by scanned
-- text), kind-specific data (participant, product...) that never goes into
-- the code itself, expiry, revocation and use.
CREATE TABLE qr_codes (
    id                TEXT PRIMARY KEY,
    tipo              TEXT NOT NULL,
    conteudo          TEXT NOT NULL,
    conteudo_hash     TEXT NOT NULL,
    metadados         TEXT NOT NULL,
    evento_id         TEXT,
    versao            INTEGER NOT NULL,
    nivel_correcao    TEXT NOT NULL,
    criado_em         BIGINT NOT NULL,
    valido_ate        BIGINT,
    status            TEXT NOT NULL DEFAULT 'ativo',
    revogado_em       BIGINT,
    motivo_revogacao  TEXT,
    usos              INTEGER NOT NULL DEFAULT 0,
    usado_em          BIGINT,
    usado_por         TEXT,
    usado_local       TEXT
);
CREATE INDEX qr_codes_conteudo_hash ON qr_codes (conteudo_hash);
CREATE INDEX qr_codes_evento ON qr_codes (evento_id, criado_em);

-- Comandas (tabs): the balance lives here, never in the code.
CREATE TABLE comandas (
    id              TEXT PRIMARY KEY REFERENCES qr_codes (id),
    numero          TEXT NOT NULL,
    evento_id       TEXT NOT NULL,
    saldo_centavos  BIGINT NOT NULL CHECK (saldo_centavos >= 0),
    atualizado_em   BIGINT NOT NULL
);

CREATE TABLE comanda_movimentos (
    id                  TEXT PRIMARY KEY,
    comanda_id          TEXT NOT NULL REFERENCES comandas (id),
    tipo                TEXT NOT NULL,
    valor_centavos      BIGINT NOT NULL,
    descricao           TEXT NOT NULL,
    chave_idempotencia  TEXT NOT NULL,
    saldo_apos_centavos BIGINT NOT NULL,
    criado_em           BIGINT NOT NULL,
    UNIQUE (comanda_id, chave_idempotencia)
);
CREATE INDEX comanda_movimentos_comanda ON comanda_movimentos (comanda_id, criado_em);
