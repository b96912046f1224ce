-- When a login last had a TOTP code accepted by the binding, so an
-- administrator can tell a live authenticator from a forgotten one. 0 means
-- not since it was bound (bindings made before this migration included).
ALTER TABLE factor_bindings ADD COLUMN last_used_at BIGINT NOT NULL DEFAULT 0;
