-- StepGate schema. Times are Unix milliseconds (BIGINT) in both dialects so
-- comparisons behave the same on SQLite and PostgreSQL; 0 means "never".
CREATE TABLE settings (
    key        TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE users (
    id                    TEXT PRIMARY KEY,
    email                 TEXT NOT NULL UNIQUE,
    name                  TEXT NOT NULL DEFAULT '',
    role                  TEXT NOT NULL,
    password_hash         TEXT NOT NULL DEFAULT '',
    disabled              INTEGER NOT NULL DEFAULT 0,
    mfa_bypass            INTEGER NOT NULL DEFAULT 0,
    last_factor           TEXT NOT NULL DEFAULT '',
    password_failures     INTEGER NOT NULL DEFAULT 0,
    password_locked_until BIGINT NOT NULL DEFAULT 0,
    mfa_failures          INTEGER NOT NULL DEFAULT 0,
    mfa_locked_until      BIGINT NOT NULL DEFAULT 0,
    created_at            BIGINT NOT NULL,
    updated_at            BIGINT NOT NULL
);
-- Exactly one owner may exist.
CREATE UNIQUE INDEX users_single_owner ON users (role) WHERE role = 'owner';

CREATE TABLE clients (
    id                        TEXT PRIMARY KEY,
    name                      TEXT NOT NULL,
    secret_hash               TEXT NOT NULL DEFAULT '',
    public                    INTEGER NOT NULL DEFAULT 0,
    redirect_uris             TEXT NOT NULL,
    post_logout_redirect_uris TEXT NOT NULL,
    token_format              TEXT NOT NULL,
    factor_otp                INTEGER NOT NULL DEFAULT 0,
    factor_email              INTEGER NOT NULL DEFAULT 0,
    mfa_max_age_ms            BIGINT NOT NULL DEFAULT -1,
    created_at                BIGINT NOT NULL,
    updated_at                BIGINT NOT NULL
);

CREATE TABLE sessions (
    id_hash      TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    factors      TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE auth_requests (
    id              TEXT PRIMARY KEY,
    client_id       TEXT NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    params          TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    expires_at      BIGINT NOT NULL,
    user_id         TEXT NOT NULL DEFAULT '',
    session_hash    TEXT NOT NULL DEFAULT '',
    done            INTEGER NOT NULL DEFAULT 0,
    auth_time       BIGINT NOT NULL DEFAULT 0,
    amr             TEXT NOT NULL DEFAULT '[]',
    acr             TEXT NOT NULL DEFAULT '',
    code_hash       TEXT UNIQUE,
    code_expires_at BIGINT NOT NULL DEFAULT 0,
    code_used_at    BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX auth_requests_expires ON auth_requests (expires_at);

CREATE TABLE refresh_tokens (
    id              TEXT PRIMARY KEY,
    token_hash      TEXT NOT NULL UNIQUE,
    family_id       TEXT NOT NULL,
    client_id       TEXT NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    user_id         TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    audience        TEXT NOT NULL,
    scopes          TEXT NOT NULL,
    amr             TEXT NOT NULL,
    acr             TEXT NOT NULL,
    auth_time       BIGINT NOT NULL,
    auth_request_id TEXT NOT NULL DEFAULT '',
    created_at      BIGINT NOT NULL,
    expires_at      BIGINT NOT NULL,
    used_at         BIGINT NOT NULL DEFAULT 0,
    revoked_at      BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_user_client ON refresh_tokens (user_id, client_id);

CREATE TABLE tokens (
    id               TEXT PRIMARY KEY,
    client_id        TEXT NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    user_id          TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    audience         TEXT NOT NULL,
    scopes           TEXT NOT NULL,
    amr              TEXT NOT NULL,
    acr              TEXT NOT NULL,
    auth_time        BIGINT NOT NULL,
    auth_request_id  TEXT NOT NULL DEFAULT '',
    refresh_token_id TEXT NOT NULL DEFAULT '',
    created_at       BIGINT NOT NULL,
    expires_at       BIGINT NOT NULL,
    revoked_at       BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX tokens_auth_request ON tokens (auth_request_id);
CREATE INDEX tokens_refresh ON tokens (refresh_token_id);
CREATE INDEX tokens_user_client ON tokens (user_id, client_id);

CREATE TABLE signing_keys (
    id             TEXT PRIMARY KEY,
    algorithm      TEXT NOT NULL,
    sealed_private BLOB NOT NULL,
    public_jwk     TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    active_at      BIGINT NOT NULL,
    retired_at     BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE factor_bindings (
    id             TEXT PRIMARY KEY,
    user_id        TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind           TEXT NOT NULL,
    sealed_secret  BLOB NOT NULL,
    created_at     BIGINT NOT NULL,
    confirmed_at   BIGINT NOT NULL DEFAULT 0,
    last_used_step BIGINT NOT NULL DEFAULT 0
);
-- One confirmed and one pending binding per user and kind.
CREATE UNIQUE INDEX factor_bindings_one_confirmed ON factor_bindings (user_id, kind) WHERE confirmed_at <> 0;
CREATE UNIQUE INDEX factor_bindings_one_pending ON factor_bindings (user_id, kind) WHERE confirmed_at = 0;

CREATE TABLE email_codes (
    id         TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    purpose    TEXT NOT NULL,
    bound_to   TEXT NOT NULL,
    code_hash  TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at    BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX email_codes_user ON email_codes (user_id, created_at);

CREATE TABLE backup_codes (
    id         TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash  TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    used_at    BIGINT NOT NULL DEFAULT 0,
    UNIQUE (user_id, code_hash)
);

CREATE TABLE audit_events (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    at         BIGINT NOT NULL,
    type       TEXT NOT NULL,
    user_id    TEXT NOT NULL DEFAULT '',
    identifier TEXT NOT NULL DEFAULT '',
    client_id  TEXT NOT NULL DEFAULT '',
    ip         TEXT NOT NULL DEFAULT '',
    country    TEXT NOT NULL DEFAULT '',
    user_agent TEXT NOT NULL DEFAULT '',
    result     TEXT NOT NULL,
    reason     TEXT NOT NULL DEFAULT '',
    detail     TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_events_at ON audit_events (at);
CREATE INDEX audit_events_user ON audit_events (user_id, at);
