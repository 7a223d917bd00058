-- Key/value facts about this installation (its id, when it was created),
-- shared by every instance that uses the database.
CREATE TABLE meta (
    key        TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);
