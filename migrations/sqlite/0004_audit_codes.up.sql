-- Audit event types become stable codes (the labels people read live in
-- mfa.EventTypes), and each row names who acted: '' for the user's own
-- login, 'cli:<os user>' for a command.
ALTER TABLE audit_events ADD COLUMN actor TEXT NOT NULL DEFAULT '';

-- Rows only a CLI command wrote before; they did not record the OS user.
UPDATE audit_events SET actor = 'cli'
WHERE type IN ('MFA removed - OTP', 'Account unlocked', 'Backup codes regenerated', 'MFA bypass changed',
               'Workspace policy changed');
UPDATE audit_events SET detail = '' WHERE actor = 'cli' AND detail = 'cli';

UPDATE audit_events SET type = CASE type
    WHEN 'Primary authentication - Password'      THEN 'auth.password.verify'
    WHEN 'Secondary authentication - OTP'         THEN 'mfa.otp.verify'
    WHEN 'Secondary authentication - Email'       THEN 'mfa.email.verify'
    WHEN 'Secondary authentication - Backup code' THEN 'mfa.backup_code.verify'
    WHEN 'MFA bound - OTP'                        THEN 'mfa.otp.bind'
    WHEN 'MFA removed - OTP'                      THEN 'mfa.otp.remove'
    WHEN 'Backup codes regenerated'               THEN 'mfa.backup_codes.regenerate'
    WHEN 'MFA bypass changed'                     THEN 'mfa.bypass.set'
    WHEN 'Account locked'                         THEN 'account.lock'
    WHEN 'Account unlocked'                       THEN 'account.unlock'
    WHEN 'Workspace policy changed'               THEN 'workspace.policy.update'
    ELSE type END;

CREATE INDEX audit_events_type ON audit_events (type, at);
