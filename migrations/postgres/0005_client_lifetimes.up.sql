-- A client's own token lifetimes, in milliseconds; 0 is the server's.
ALTER TABLE clients ADD COLUMN access_token_lifetime_ms BIGINT NOT NULL DEFAULT 0;
ALTER TABLE clients ADD COLUMN id_token_lifetime_ms BIGINT NOT NULL DEFAULT 0;
ALTER TABLE clients ADD COLUMN refresh_token_lifetime_ms BIGINT NOT NULL DEFAULT 0;
