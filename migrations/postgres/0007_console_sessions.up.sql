-- The console's own sign-in sessions (StepGate's console is an OIDC client
-- of StepGate; a completed login opens one of these, keyed by the hash of
-- its cookie). mfa_at is when the latest second factor of the login that
-- opened it was done (0: none); pending is an action waiting for a fresh
-- second factor (JSON, '' for none).
CREATE TABLE console_sessions (
    id_hash      TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    auth_time    BIGINT NOT NULL,
    mfa_at       BIGINT NOT NULL,
    id_token     TEXT NOT NULL,
    pending      TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL
);
CREATE INDEX console_sessions_user ON console_sessions (user_id);
CREATE INDEX console_sessions_expiry ON console_sessions (expires_at);
CREATE INDEX console_sessions_seen ON console_sessions (last_seen_at);
