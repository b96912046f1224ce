-- New backup codes, sealed under the master key, kept for the login they
-- were issued in until the user confirms saving them, so that a reload of
-- their page shows them again. They go with their authorization request.
CREATE TABLE shown_backup_codes (
    auth_request_id TEXT PRIMARY KEY REFERENCES auth_requests (id) ON DELETE CASCADE,
    user_id         TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    session_hash    TEXT NOT NULL,
    sealed          BLOB NOT NULL,
    created_at      BIGINT NOT NULL
);
