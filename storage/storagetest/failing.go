// Package storagetest has stores for tests of what StepGate does when its
// database fails.
package storagetest

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/stepgate/stepgate/storage"
)

// Failing passes every call to Inner until its Switch is set; from then on
// every method returns the switch's error before reaching Inner, as a broken
// database would. It implements storage.Store without embedding it, so the
// compiler flags a method added to the contract. (The per-method bodies
// were generated from storage/store.go.)
type Failing struct {
	Inner  storage.Store
	Switch *Switch
}

// Switch turns failing on for every Failing store that shares it, and
// chooses the error they return. Its zero value passes calls through. Safe
// for concurrent use.
type Switch struct {
	on  atomic.Bool
	val atomic.Value // *error
}

// Set makes every call fail with err from now on; nil lets calls through
// again.
func (f *Switch) Set(err error) {
	f.val.Store(&err)
	f.on.Store(err != nil)
}

func (f *Switch) err() error { return *f.val.Load().(*error) }

// NewFailing wraps inner with a store that fails while sw is set.
func NewFailing(inner storage.Store, sw *Switch) *Failing { return &Failing{Inner: inner, Switch: sw} }

var _ storage.Store = (*Failing)(nil)

func (s *Failing) failing() bool { return s.Switch.on.Load() }

func (s *Failing) InTx(ctx context.Context, fn func(tx storage.Store) error) error {
	if s.failing() {
		return s.Switch.err()
	}
	return s.Inner.InTx(ctx, func(tx storage.Store) error {
		return fn(&Failing{Inner: tx, Switch: s.Switch})
	})
}

func (s *Failing) Close() error { return s.Inner.Close() }

func (s *Failing) CreateUser(a0 context.Context, a1 *storage.User) (err error) {
	if s.failing() {
		return s.Switch.err()
	}
	return s.Inner.CreateUser(a0, a1)
}

func (s *Failing) GetUser(a0 context.Context, a1 string) (r0 *storage.User, err error) {
	if s.failing() {
		return r0, s.Switch.err()
	}
	return s.Inner.GetUser(a0, a1)
}

func (s *Failing) GetUserByEmail(a0 context.Context, a1 string) (r0 *storage.User, err error) {
	if s.failing() {
		return r0, s.Switch.err()
	}
	return s.Inner.GetUserByEmail(a0, a1)
}

func (s *Failing) UpdateUser(a0 context.Context, a1 string, a2 func(*storage.User) error) (r0 *storage.User, err error) {
	if s.failing() {
		return r0, s.Switch.err()
	}
	return s.Inner.UpdateUser(a0, a1, a2)
}

func (s *Failing) SetPasswordHash(a0 context.Context, a1, a2, a3 string, a4 time.Time) error {
	if s.failing() {
		return s.Switch.err()
	}
	return s.Inner.SetPasswordHash(a0, a1, a2, a3, a4)
}

func (s *Failing) SetLastFactor(a0 context.Context, a1, a2 string) error {
	if s.failing() {
		return s.Switch.err()
	}
	return s.Inner.SetLastFactor(a0, a1, a2)
}

func (s *Failing) Serialize(a0 context.Context, a1 string) error {
	if s.failing() {
		return s.Switch.err()
	}
	return s.Inner.Serialize(a0, a1)
}

func (s *Failing) ReservePasswordAttempt(a0 context.Context, a1 string, a2 time.Time, a3 storage.Lockout) (r0 storage.FailureState, err error) {
	if s.failing() {
		return r0, s.Switch.err()
	}
	return s.Inner.ReservePasswordAttempt(a0, a1, a2, a3)
}

func (s *Failing) ReserveMFAAttempt(a0 context.Context, a1 string, a2 time.Time, a3 storage.Lockout) (r0 storage.FailureState, err error) {
	if s.failing() {
		return r0, s.Switch.err()
	}
	return s.Inner.ReserveMFAAttempt(a0, a1, a2, a3)
}

func (s *Failing) ResetPasswordFailures(a0 context.Context, a1 string) (err error) {
	if s.failing() {
		return s.Switch.err()
	}
	return s.Inner.ResetPasswordFailures(a0, a1)
}

func (s *Failing) ResetMFAFailures(a0 context.Context, a1 string) (err error) {
	if s.failing() {
		return s.Switch.err()
	}
	return s.Inner.ResetMFAFailures(a0, a1)
}

func (s *Failing) CreateClient(a0 context.Context, a1 *storage.Client) (err error) {
	if s.failing() {
		return s.Switch.err()
	}
	return s.Inner.CreateClient(a0, a1)
}

func (s *Failing) GetClient(a0 context.Context, a1 string) (r0 *storage.Client, err error) {
	if s.failing() {
		return r0, s.Switch.err()
	}
	return s.Inner.GetClient(a0, a1)
}

func (s *Failing) ListClients(a0 context.Context) (r0 []storage.Client, err error) {
	if s.failing() {
		return r0, s.Switch.err()
	}
	return s.Inner.ListClients(a0)
}

func (s *Failing) UpdateClient(a0 context.Context, a1 string, a2 func(*storage.Client) error) (r0 *storage.Client, err error) {
	if s.failing() {
		return r0, s.Switch.err()
	}
	return s.Inner.UpdateClient(a0, a1, a2)
}

func (s *Failing) DeleteClient(a0 context.Context, a1 string) (err error) {
	if s.failing() {
		return s.Switch.err()
	}
	return s.Inner.DeleteClient(a0, a1)
}

func (s *Failing) CreateSession(a0 context.Context, a1 *storage.Session) (err error) {
	if s.failing() {
		return s.Switch.err()
	}
	return s.Inner.CreateSession(a0, a1)
}

func (s *Failing) GetSession(a0 context.Context, a1 string) (r0 *storage.Session, err error) {
	if s.failing() {
		return r0, s.Switch.err()
	}
	return s.Inner.GetSession(a0, a1)
}

func (s *Failing) RotateSession(a0 context.Context, a1 string, a2 string, a3 []storage.FactorRecord, a4 time.Time) (err error) {
	if s.failing() {
		return s.Switch.err()
	}
	return s.Inner.RotateSession(a0, a1, a2, a3, a4)
}

func (s *Failing) TouchSession(a0 context.Context, a1 string, a2 time.Time) (err error) {
	if s.failing() {
		return s.Switch.err()
	}
	return s.Inner.TouchSession(a0, a1, a2)
}

func (s *Failing) DeleteSession(a0 context.Context, a1 string) (err error) {
	if s.failing() {
		return s.Switch.err()
	}
	return s.Inner.DeleteSession(a0, a1)
}

func (s *Failing) DeleteUserSessions(a0 context.Context, a1 string) (err error) {
	if s.failing() {
		return s.Switch.err()
	}
	return s.Inner.DeleteUserSessions(a0, a1)
}

func (s *Failing) DeleteExpiredSessions(a0 context.Context, a1 time.Time, a2 time.Duration) (r0 int64, err error) {
	if s.failing() {
		return r0, s.Switch.err()
	}
	return s.Inner.DeleteExpiredSessions(a0, a1, a2)
}

func (s *Failing) CreateAuthRequest(a0 context.Context, a1 *storage.AuthRequest) (err error) {
	if s.failing() {
		return s.Switch.err()
	}
	return s.Inner.CreateAuthRequest(a0, a1)
}

func (s *Failing) GetAuthRequest(a0 context.Context, a1 string) (r0 *storage.AuthRequest, err error) {
	if s.failing() {
		return r0, s.Switch.err()
	}
	return s.Inner.GetAuthRequest(a0, a1)
}

func (s *Failing) CompleteAuthRequest(a0 context.Context, a1 string, a2 string, a3 string, a4 time.Time, a5 []string, a6 string) (err error) {
	if s.failing() {
		return s.Switch.err()
	}
	return s.Inner.CompleteAuthRequest(a0, a1, a2, a3, a4, a5, a6)
}

func (s *Failing) SaveAuthCode(a0 context.Context, a1 string, a2 string, a3 time.Time) (err error) {
	if s.failing() {
		return s.Switch.err()
	}
	return s.Inner.SaveAuthCode(a0, a1, a2, a3)
}

func (s *Failing) GetAuthRequestByCode(a0 context.Context, a1 string) (r0 *storage.AuthRequest, err error) {
	if s.failing() {
		return r0, s.Switch.err()
	}
	return s.Inner.GetAuthRequestByCode(a0, a1)
}

func (s *Failing) RedeemAuthCode(a0 context.Context, a1 string, a2 time.Time) (r0 *storage.AuthRequest, err error) {
	if s.failing() {
		return r0, s.Switch.err()
	}
	return s.Inner.RedeemAuthCode(a0, a1, a2)
}

func (s *Failing) DeleteExpiredAuthRequests(a0 context.Context, a1 time.Time) (r0 int64, err error) {
	if s.failing() {
		return r0, s.Switch.err()
	}
	return s.Inner.DeleteExpiredAuthRequests(a0, a1)
}

func (s *Failing) CreateToken(a0 context.Context, a1 *storage.Token) (err error) {
	if s.failing() {
		return s.Switch.err()
	}
	return s.Inner.CreateToken(a0, a1)
}

func (s *Failing) GetToken(a0 context.Context, a1 string) (r0 *storage.Token, err error) {
	if s.failing() {
		return r0, s.Switch.err()
	}
	return s.Inner.GetToken(a0, a1)
}

func (s *Failing) RevokeToken(a0 context.Context, a1 string, a2 time.Time) (err error) {
	if s.failing() {
		return s.Switch.err()
	}
	return s.Inner.RevokeToken(a0, a1, a2)
}

func (s *Failing) CreateRefreshToken(a0 context.Context, a1 *storage.RefreshToken) (err error) {
	if s.failing() {
		return s.Switch.err()
	}
	return s.Inner.CreateRefreshToken(a0, a1)
}

func (s *Failing) GetRefreshTokenByHash(a0 context.Context, a1 string) (r0 *storage.RefreshToken, err error) {
	if s.failing() {
		return r0, s.Switch.err()
	}
	return s.Inner.GetRefreshTokenByHash(a0, a1)
}

func (s *Failing) UseRefreshToken(a0 context.Context, a1 string, a2 time.Time) (err error) {
	if s.failing() {
		return s.Switch.err()
	}
	return s.Inner.UseRefreshToken(a0, a1, a2)
}

func (s *Failing) RevokeRefreshFamily(a0 context.Context, a1 string, a2 time.Time) (err error) {
	if s.failing() {
		return s.Switch.err()
	}
	return s.Inner.RevokeRefreshFamily(a0, a1, a2)
}

func (s *Failing) RevokeAuthRequestTokens(a0 context.Context, a1 string, a2 time.Time) (err error) {
	if s.failing() {
		return s.Switch.err()
	}
	return s.Inner.RevokeAuthRequestTokens(a0, a1, a2)
}

func (s *Failing) RevokeUserClientTokens(a0 context.Context, a1 string, a2 string, a3 time.Time) (err error) {
	if s.failing() {
		return s.Switch.err()
	}
	return s.Inner.RevokeUserClientTokens(a0, a1, a2, a3)
}

func (s *Failing) DeleteExpiredTokens(a0 context.Context, a1 time.Time) (r0 int64, err error) {
	if s.failing() {
		return r0, s.Switch.err()
	}
	return s.Inner.DeleteExpiredTokens(a0, a1)
}

func (s *Failing) CreateSigningKey(a0 context.Context, a1 *storage.SigningKey) (err error) {
	if s.failing() {
		return s.Switch.err()
	}
	return s.Inner.CreateSigningKey(a0, a1)
}

func (s *Failing) ListSigningKeys(a0 context.Context) (r0 []storage.SigningKey, err error) {
	if s.failing() {
		return r0, s.Switch.err()
	}
	return s.Inner.ListSigningKeys(a0)
}

func (s *Failing) RetireSigningKey(a0 context.Context, a1 string, a2 time.Time) (err error) {
	if s.failing() {
		return s.Switch.err()
	}
	return s.Inner.RetireSigningKey(a0, a1, a2)
}

func (s *Failing) DeleteSigningKey(a0 context.Context, a1 string) (err error) {
	if s.failing() {
		return s.Switch.err()
	}
	return s.Inner.DeleteSigningKey(a0, a1)
}

func (s *Failing) PutPendingFactor(a0 context.Context, a1 *storage.FactorBinding) (err error) {
	if s.failing() {
		return s.Switch.err()
	}
	return s.Inner.PutPendingFactor(a0, a1)
}

func (s *Failing) GetFactor(a0 context.Context, a1 string, a2 string) (r0 *storage.FactorBinding, err error) {
	if s.failing() {
		return r0, s.Switch.err()
	}
	return s.Inner.GetFactor(a0, a1, a2)
}

func (s *Failing) ListFactors(a0 context.Context, a1 string) (r0 []storage.FactorBinding, err error) {
	if s.failing() {
		return r0, s.Switch.err()
	}
	return s.Inner.ListFactors(a0, a1)
}

func (s *Failing) ConfirmFactor(a0 context.Context, a1 string, a2 time.Time, a3 int64) (err error) {
	if s.failing() {
		return s.Switch.err()
	}
	return s.Inner.ConfirmFactor(a0, a1, a2, a3)
}

func (s *Failing) UseTOTPStep(a0 context.Context, a1 string, a2 int64) (err error) {
	if s.failing() {
		return s.Switch.err()
	}
	return s.Inner.UseTOTPStep(a0, a1, a2)
}

func (s *Failing) DeleteFactors(a0 context.Context, a1 string, a2 string) (err error) {
	if s.failing() {
		return s.Switch.err()
	}
	return s.Inner.DeleteFactors(a0, a1, a2)
}

func (s *Failing) DeleteAllFactorsOfKind(a0 context.Context, a1 string) (r0 int64, err error) {
	if s.failing() {
		return r0, s.Switch.err()
	}
	return s.Inner.DeleteAllFactorsOfKind(a0, a1)
}

func (s *Failing) CountFactorsOfKind(a0 context.Context, a1 string) (r0 int64, err error) {
	if s.failing() {
		return r0, s.Switch.err()
	}
	return s.Inner.CountFactorsOfKind(a0, a1)
}

func (s *Failing) CreateEmailCode(a0 context.Context, a1 *storage.EmailCode) (err error) {
	if s.failing() {
		return s.Switch.err()
	}
	return s.Inner.CreateEmailCode(a0, a1)
}

func (s *Failing) LatestEmailCode(a0 context.Context, a1 string, a2 string, a3 string) (r0 *storage.EmailCode, err error) {
	if s.failing() {
		return r0, s.Switch.err()
	}
	return s.Inner.LatestEmailCode(a0, a1, a2, a3)
}

func (s *Failing) UseEmailCode(a0 context.Context, a1 string, a2 time.Time) (err error) {
	if s.failing() {
		return s.Switch.err()
	}
	return s.Inner.UseEmailCode(a0, a1, a2)
}

func (s *Failing) ReplaceBackupCodes(a0 context.Context, a1 string, a2 []string, a3 time.Time) (err error) {
	if s.failing() {
		return s.Switch.err()
	}
	return s.Inner.ReplaceBackupCodes(a0, a1, a2, a3)
}

func (s *Failing) UseBackupCode(a0 context.Context, a1 string, a2 string, a3 time.Time) (err error) {
	if s.failing() {
		return s.Switch.err()
	}
	return s.Inner.UseBackupCode(a0, a1, a2, a3)
}

func (s *Failing) CountUnusedBackupCodes(a0 context.Context, a1 string) (r0 int, err error) {
	if s.failing() {
		return r0, s.Switch.err()
	}
	return s.Inner.CountUnusedBackupCodes(a0, a1)
}

func (s *Failing) DeleteBackupCodes(a0 context.Context, a1 string) (err error) {
	if s.failing() {
		return s.Switch.err()
	}
	return s.Inner.DeleteBackupCodes(a0, a1)
}

func (s *Failing) AppendAudit(a0 context.Context, a1 *storage.AuditEvent) (err error) {
	if s.failing() {
		return s.Switch.err()
	}
	return s.Inner.AppendAudit(a0, a1)
}

func (s *Failing) ListAudit(a0 context.Context, a1 storage.AuditFilter) (r0 []storage.AuditEvent, err error) {
	if s.failing() {
		return r0, s.Switch.err()
	}
	return s.Inner.ListAudit(a0, a1)
}

func (s *Failing) GetSetting(a0 context.Context, a1 string) (r0 []byte, err error) {
	if s.failing() {
		return r0, s.Switch.err()
	}
	return s.Inner.GetSetting(a0, a1)
}

func (s *Failing) PutSetting(a0 context.Context, a1 string, a2 []byte, a3 time.Time) (err error) {
	if s.failing() {
		return s.Switch.err()
	}
	return s.Inner.PutSetting(a0, a1, a2, a3)
}

func (s *Failing) DeleteRateLimitsBefore(a0 context.Context, a1 time.Time) (int64, error) {
	if s.failing() {
		return 0, s.Switch.err()
	}
	return s.Inner.DeleteRateLimitsBefore(a0, a1)
}

func (s *Failing) HitRateLimit(a0 context.Context, a1 string, a2 time.Time, a3 time.Duration) (r0 int, err error) {
	if s.failing() {
		return r0, s.Switch.err()
	}
	return s.Inner.HitRateLimit(a0, a1, a2, a3)
}

func (s *Failing) Ping(a0 context.Context) (err error) {
	if s.failing() {
		return s.Switch.err()
	}
	return s.Inner.Ping(a0)
}

func (s *Failing) PutShownBackupCodes(a0 context.Context, a1 *storage.ShownBackupCodes) error {
	if s.failing() {
		return s.Switch.err()
	}
	return s.Inner.PutShownBackupCodes(a0, a1)
}

func (s *Failing) GetShownBackupCodes(a0 context.Context, a1 string) (r0 *storage.ShownBackupCodes, err error) {
	if s.failing() {
		return r0, s.Switch.err()
	}
	return s.Inner.GetShownBackupCodes(a0, a1)
}

func (s *Failing) DeleteShownBackupCodes(a0 context.Context, a1 string) error {
	if s.failing() {
		return s.Switch.err()
	}
	return s.Inner.DeleteShownBackupCodes(a0, a1)
}

func (s *Failing) QueryUsers(a0 context.Context, a1 storage.UserQuery) (r0 storage.UserPage, err error) {
	if s.failing() {
		return r0, s.Switch.err()
	}
	return s.Inner.QueryUsers(a0, a1)
}

func (s *Failing) CountUsers(a0 context.Context, a1 storage.UserQuery) (r0 int64, err error) {
	if s.failing() {
		return r0, s.Switch.err()
	}
	return s.Inner.CountUsers(a0, a1)
}

func (s *Failing) CountUserStates(a0 context.Context, a1 time.Time) (r0 storage.UserCounts, err error) {
	if s.failing() {
		return r0, s.Switch.err()
	}
	return s.Inner.CountUserStates(a0, a1)
}

func (s *Failing) QueryClients(a0 context.Context, a1 storage.ClientQuery) (r0 storage.ClientPage, err error) {
	if s.failing() {
		return r0, s.Switch.err()
	}
	return s.Inner.QueryClients(a0, a1)
}

func (s *Failing) CountClients(a0 context.Context) (r0 int64, err error) {
	if s.failing() {
		return r0, s.Switch.err()
	}
	return s.Inner.CountClients(a0)
}

func (s *Failing) CountClientUsers(a0 context.Context, a1 time.Time) (r0 map[string]int64, err error) {
	if s.failing() {
		return r0, s.Switch.err()
	}
	return s.Inner.CountClientUsers(a0, a1)
}

func (s *Failing) ListSessions(a0 context.Context, a1 string, a2 time.Time) (r0 []storage.SessionInfo, err error) {
	if s.failing() {
		return r0, s.Switch.err()
	}
	return s.Inner.ListSessions(a0, a1, a2)
}

func (s *Failing) DeleteUserSession(a0 context.Context, a1, a2 string) error {
	if s.failing() {
		return s.Switch.err()
	}
	return s.Inner.DeleteUserSession(a0, a1, a2)
}

func (s *Failing) UseTOTPStepAt(a0 context.Context, a1 string, a2 int64, a3 time.Time) error {
	if s.failing() {
		return s.Switch.err()
	}
	return s.Inner.UseTOTPStepAt(a0, a1, a2, a3)
}

func (s *Failing) QueryAudit(a0 context.Context, a1 storage.AuditQuery) (r0 storage.AuditPage, err error) {
	if s.failing() {
		return r0, s.Switch.err()
	}
	return s.Inner.QueryAudit(a0, a1)
}

func (s *Failing) EachAudit(a0 context.Context, a1 storage.AuditQuery, a2 func(*storage.AuditEvent) error) error {
	if s.failing() {
		return s.Switch.err()
	}
	return s.Inner.EachAudit(a0, a1, a2)
}

func (s *Failing) DeleteAllBackupCodes(a0 context.Context) (r0 int64, err error) {
	if s.failing() {
		return r0, s.Switch.err()
	}
	return s.Inner.DeleteAllBackupCodes(a0)
}

func (s *Failing) CreateConsoleSession(a0 context.Context, a1 *storage.ConsoleSession) (err error) {
	if s.failing() {
		return s.Switch.err()
	}
	return s.Inner.CreateConsoleSession(a0, a1)
}

func (s *Failing) GetConsoleSession(a0 context.Context, a1 string) (r0 *storage.ConsoleSession, err error) {
	if s.failing() {
		return r0, s.Switch.err()
	}
	return s.Inner.GetConsoleSession(a0, a1)
}

func (s *Failing) TouchConsoleSession(a0 context.Context, a1 string, a2 time.Time) (err error) {
	if s.failing() {
		return s.Switch.err()
	}
	return s.Inner.TouchConsoleSession(a0, a1, a2)
}

func (s *Failing) SetConsolePending(a0 context.Context, a1, a2 string) (err error) {
	if s.failing() {
		return s.Switch.err()
	}
	return s.Inner.SetConsolePending(a0, a1, a2)
}

func (s *Failing) TakeConsolePending(a0 context.Context, a1 string) (r0 string, err error) {
	if s.failing() {
		return r0, s.Switch.err()
	}
	return s.Inner.TakeConsolePending(a0, a1)
}

func (s *Failing) DeleteConsoleSession(a0 context.Context, a1 string) (err error) {
	if s.failing() {
		return s.Switch.err()
	}
	return s.Inner.DeleteConsoleSession(a0, a1)
}
