-- Fixed-window counters for rate limits shared by every replica (e.g.
-- password attempts per client IP).
CREATE TABLE rate_limits (
    key          TEXT PRIMARY KEY,
    window_start BIGINT NOT NULL,
    count        INTEGER NOT NULL
);
