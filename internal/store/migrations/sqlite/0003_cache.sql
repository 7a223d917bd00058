-- Cache areas survive restarts and are shared by every instance; the items
-- themselves live in memory (and in Redis when configured).
CREATE TABLE cache_areas (
    nome                TEXT PRIMARY KEY,
    estrategia          TEXT NOT NULL,
    tamanho_max_bytes   BIGINT NOT NULL,
    max_itens           BIGINT NOT NULL DEFAULT 0,
    ttl_padrao_segundos BIGINT NOT NULL DEFAULT 0,
    otimizar            INTEGER NOT NULL DEFAULT 1,
    criado_em           BIGINT NOT NULL,
    atualizado_em       BIGINT NOT NULL
);

-- What the optimiser decided, what it expected, and what it measured after.
CREATE TABLE cache_otimizacoes (
    id                   TEXT PRIMARY KEY,
    area                 TEXT NOT NULL,
    criado_em            BIGINT NOT NULL,
    acao                 TEXT NOT NULL,
    antes                TEXT NOT NULL,
    depois               TEXT NOT NULL,
    hit_ratio_antes      DOUBLE PRECISION NOT NULL,
    hit_ratio_esperado   DOUBLE PRECISION NOT NULL,
    hit_ratio_medido     DOUBLE PRECISION,
    medido_em            BIGINT
);
CREATE INDEX cache_otimizacoes_area ON cache_otimizacoes (area, criado_em);
