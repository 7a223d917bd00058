-- Alert rules, their firing episodes and silences.
CREATE TABLE monitor_regras (
    id                      INTEGER PRIMARY KEY AUTOINCREMENT,
    nome                    TEXT NOT NULL,
    metrica                 TEXT NOT NULL,
    operador                TEXT NOT NULL,
    limite                  DOUBLE PRECISION NOT NULL,
    limite_retorno          DOUBLE PRECISION NOT NULL,
    duracao_segundos        BIGINT NOT NULL,
    severidade              TEXT NOT NULL,
    repetir_a_cada_segundos BIGINT NOT NULL,
    canais                  TEXT NOT NULL,
    ativo                   INTEGER NOT NULL,
    criado_em               BIGINT NOT NULL,
    atualizado_em           BIGINT NOT NULL
);

CREATE TABLE monitor_eventos (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    regra_id        BIGINT NOT NULL,
    regra_nome      TEXT NOT NULL,
    metrica         TEXT NOT NULL,
    severidade      TEXT NOT NULL,
    estado          TEXT NOT NULL,
    valor           DOUBLE PRECISION NOT NULL,
    limite          DOUBLE PRECISION NOT NULL,
    mensagem        TEXT NOT NULL,
    disparado_em    BIGINT NOT NULL,
    resolvido_em    BIGINT,
    reconhecido_em  BIGINT,
    reconhecido_por TEXT NOT NULL DEFAULT ''
);
CREATE INDEX monitor_eventos_disparado ON monitor_eventos (disparado_em);
CREATE INDEX monitor_eventos_estado ON monitor_eventos (estado, disparado_em);

CREATE TABLE monitor_silencios (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    regra_id  BIGINT,
    metrica   TEXT NOT NULL DEFAULT '',
    ate       BIGINT NOT NULL,
    motivo    TEXT NOT NULL,
    criado_em BIGINT NOT NULL
);

-- Metric history: compressed blocks (internal/monitor/tsdb) per metric and
-- tier (0 raw, 1 one-minute, 2 one-hour), covering [inicio, fim] in unix ms.
CREATE TABLE monitor_blocos (
    metrica TEXT NOT NULL,
    camada  INTEGER NOT NULL,
    inicio  BIGINT NOT NULL,
    fim     BIGINT NOT NULL,
    n       INTEGER NOT NULL,
    dados   BLOB NOT NULL,
    PRIMARY KEY (metrica, camada, inicio)
);
CREATE INDEX monitor_blocos_fim ON monitor_blocos (camada, fim);
