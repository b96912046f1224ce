package cli

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/stepgate/stepgate/storage"
)

// failingStore passes every call to inner until fail is set; from then on
// every method returns err, as a broken database would. It implements
// storage.Store without embedding it, so the compiler flags a new method.
// The per-method bodies were generated from storage/store.go.
type failingStore struct {
	inner storage.Store
	fail  *failSwitch
}

// failSwitch turns failing on for every store that shares it, with the
// error they return.
type failSwitch struct {
	on  atomic.Bool
	val atomic.Value // error
}

func (f *failSwitch) set(err error) {
	f.val.Store(&err)
	f.on.Store(err != nil)
}

func (f *failSwitch) err() error { return *f.val.Load().(*error) }

var _ storage.Store = (*failingStore)(nil)

func (s *failingStore) failing() bool { return s.fail.on.Load() }

func (s *failingStore) InTx(ctx context.Context, fn func(tx storage.Store) error) error {
	if s.failing() {
		return s.fail.err()
	}
	return s.inner.InTx(ctx, func(tx storage.Store) error {
		return fn(&failingStore{inner: tx, fail: s.fail})
	})
}

func (s *failingStore) Close() error { return s.inner.Close() }

func (s *failingStore) CreateUser(a0 context.Context, a1 *storage.User) (err error) {
	if s.failing() {
		return s.fail.err()
	}
	return s.inner.CreateUser(a0, a1)
}

func (s *failingStore) GetUser(a0 context.Context, a1 string) (r0 *storage.User, err error) {
	if s.failing() {
		return r0, s.fail.err()
	}
	return s.inner.GetUser(a0, a1)
}

func (s *failingStore) GetUserByEmail(a0 context.Context, a1 string) (r0 *storage.User, err error) {
	if s.failing() {
		return r0, s.fail.err()
	}
	return s.inner.GetUserByEmail(a0, a1)
}

func (s *failingStore) ListUsers(a0 context.Context) (r0 []storage.User, err error) {
	if s.failing() {
		return r0, s.fail.err()
	}
	return s.inner.ListUsers(a0)
}

func (s *failingStore) UpdateUser(a0 context.Context, a1 string, a2 func(*storage.User) error) (r0 *storage.User, err error) {
	if s.failing() {
		return r0, s.fail.err()
	}
	return s.inner.UpdateUser(a0, a1, a2)
}

func (s *failingStore) SetPasswordHash(a0 context.Context, a1, a2, a3 string, a4 time.Time) error {
	if s.failing() {
		return s.fail.err()
	}
	return s.inner.SetPasswordHash(a0, a1, a2, a3, a4)
}

func (s *failingStore) SetLastFactor(a0 context.Context, a1, a2 string) error {
	if s.failing() {
		return s.fail.err()
	}
	return s.inner.SetLastFactor(a0, a1, a2)
}

func (s *failingStore) Serialize(a0 context.Context, a1 string) error {
	if s.failing() {
		return s.fail.err()
	}
	return s.inner.Serialize(a0, a1)
}

func (s *failingStore) ReservePasswordAttempt(a0 context.Context, a1 string, a2 time.Time, a3 storage.Lockout) (r0 storage.FailureState, err error) {
	if s.failing() {
		return r0, s.fail.err()
	}
	return s.inner.ReservePasswordAttempt(a0, a1, a2, a3)
}

func (s *failingStore) ReserveMFAAttempt(a0 context.Context, a1 string, a2 time.Time, a3 storage.Lockout) (r0 storage.FailureState, err error) {
	if s.failing() {
		return r0, s.fail.err()
	}
	return s.inner.ReserveMFAAttempt(a0, a1, a2, a3)
}

func (s *failingStore) ResetPasswordFailures(a0 context.Context, a1 string) (err error) {
	if s.failing() {
		return s.fail.err()
	}
	return s.inner.ResetPasswordFailures(a0, a1)
}

func (s *failingStore) ResetMFAFailures(a0 context.Context, a1 string) (err error) {
	if s.failing() {
		return s.fail.err()
	}
	return s.inner.ResetMFAFailures(a0, a1)
}

func (s *failingStore) CreateClient(a0 context.Context, a1 *storage.Client) (err error) {
	if s.failing() {
		return s.fail.err()
	}
	return s.inner.CreateClient(a0, a1)
}

func (s *failingStore) GetClient(a0 context.Context, a1 string) (r0 *storage.Client, err error) {
	if s.failing() {
		return r0, s.fail.err()
	}
	return s.inner.GetClient(a0, a1)
}

func (s *failingStore) ListClients(a0 context.Context) (r0 []storage.Client, err error) {
	if s.failing() {
		return r0, s.fail.err()
	}
	return s.inner.ListClients(a0)
}

func (s *failingStore) UpdateClient(a0 context.Context, a1 string, a2 func(*storage.Client) error) (r0 *storage.Client, err error) {
	if s.failing() {
		return r0, s.fail.err()
	}
	return s.inner.UpdateClient(a0, a1, a2)
}

func (s *failingStore) DeleteClient(a0 context.Context, a1 string) (err error) {
	if s.failing() {
		return s.fail.err()
	}
	return s.inner.DeleteClient(a0, a1)
}

func (s *failingStore) CreateSession(a0 context.Context, a1 *storage.Session) (err error) {
	if s.failing() {
		return s.fail.err()
	}
	return s.inner.CreateSession(a0, a1)
}

func (s *failingStore) GetSession(a0 context.Context, a1 string) (r0 *storage.Session, err error) {
	if s.failing() {
		return r0, s.fail.err()
	}
	return s.inner.GetSession(a0, a1)
}

func (s *failingStore) RotateSession(a0 context.Context, a1 string, a2 string, a3 []storage.FactorRecord, a4 time.Time) (err error) {
	if s.failing() {
		return s.fail.err()
	}
	return s.inner.RotateSession(a0, a1, a2, a3, a4)
}

func (s *failingStore) TouchSession(a0 context.Context, a1 string, a2 time.Time) (err error) {
	if s.failing() {
		return s.fail.err()
	}
	return s.inner.TouchSession(a0, a1, a2)
}

func (s *failingStore) DeleteSession(a0 context.Context, a1 string) (err error) {
	if s.failing() {
		return s.fail.err()
	}
	return s.inner.DeleteSession(a0, a1)
}

func (s *failingStore) DeleteUserSessions(a0 context.Context, a1 string) (err error) {
	if s.failing() {
		return s.fail.err()
	}
	return s.inner.DeleteUserSessions(a0, a1)
}

func (s *failingStore) DeleteExpiredSessions(a0 context.Context, a1 time.Time, a2 time.Duration) (r0 int64, err error) {
	if s.failing() {
		return r0, s.fail.err()
	}
	return s.inner.DeleteExpiredSessions(a0, a1, a2)
}

func (s *failingStore) CreateAuthRequest(a0 context.Context, a1 *storage.AuthRequest) (err error) {
	if s.failing() {
		return s.fail.err()
	}
	return s.inner.CreateAuthRequest(a0, a1)
}

func (s *failingStore) GetAuthRequest(a0 context.Context, a1 string) (r0 *storage.AuthRequest, err error) {
	if s.failing() {
		return r0, s.fail.err()
	}
	return s.inner.GetAuthRequest(a0, a1)
}

func (s *failingStore) CompleteAuthRequest(a0 context.Context, a1 string, a2 string, a3 string, a4 time.Time, a5 []string, a6 string) (err error) {
	if s.failing() {
		return s.fail.err()
	}
	return s.inner.CompleteAuthRequest(a0, a1, a2, a3, a4, a5, a6)
}

func (s *failingStore) SaveAuthCode(a0 context.Context, a1 string, a2 string, a3 time.Time) (err error) {
	if s.failing() {
		return s.fail.err()
	}
	return s.inner.SaveAuthCode(a0, a1, a2, a3)
}

func (s *failingStore) GetAuthRequestByCode(a0 context.Context, a1 string) (r0 *storage.AuthRequest, err error) {
	if s.failing() {
		return r0, s.fail.err()
	}
	return s.inner.GetAuthRequestByCode(a0, a1)
}

func (s *failingStore) RedeemAuthCode(a0 context.Context, a1 string, a2 time.Time) (r0 *storage.AuthRequest, err error) {
	if s.failing() {
		return r0, s.fail.err()
	}
	return s.inner.RedeemAuthCode(a0, a1, a2)
}

func (s *failingStore) DeleteExpiredAuthRequests(a0 context.Context, a1 time.Time) (r0 int64, err error) {
	if s.failing() {
		return r0, s.fail.err()
	}
	return s.inner.DeleteExpiredAuthRequests(a0, a1)
}

func (s *failingStore) CreateToken(a0 context.Context, a1 *storage.Token) (err error) {
	if s.failing() {
		return s.fail.err()
	}
	return s.inner.CreateToken(a0, a1)
}

func (s *failingStore) GetToken(a0 context.Context, a1 string) (r0 *storage.Token, err error) {
	if s.failing() {
		return r0, s.fail.err()
	}
	return s.inner.GetToken(a0, a1)
}

func (s *failingStore) RevokeToken(a0 context.Context, a1 string, a2 time.Time) (err error) {
	if s.failing() {
		return s.fail.err()
	}
	return s.inner.RevokeToken(a0, a1, a2)
}

func (s *failingStore) CreateRefreshToken(a0 context.Context, a1 *storage.RefreshToken) (err error) {
	if s.failing() {
		return s.fail.err()
	}
	return s.inner.CreateRefreshToken(a0, a1)
}

func (s *failingStore) GetRefreshTokenByHash(a0 context.Context, a1 string) (r0 *storage.RefreshToken, err error) {
	if s.failing() {
		return r0, s.fail.err()
	}
	return s.inner.GetRefreshTokenByHash(a0, a1)
}

func (s *failingStore) UseRefreshToken(a0 context.Context, a1 string, a2 time.Time) (err error) {
	if s.failing() {
		return s.fail.err()
	}
	return s.inner.UseRefreshToken(a0, a1, a2)
}

func (s *failingStore) RevokeRefreshFamily(a0 context.Context, a1 string, a2 time.Time) (err error) {
	if s.failing() {
		return s.fail.err()
	}
	return s.inner.RevokeRefreshFamily(a0, a1, a2)
}

func (s *failingStore) RevokeAuthRequestTokens(a0 context.Context, a1 string, a2 time.Time) (err error) {
	if s.failing() {
		return s.fail.err()
	}
	return s.inner.RevokeAuthRequestTokens(a0, a1, a2)
}

func (s *failingStore) RevokeUserClientTokens(a0 context.Context, a1 string, a2 string, a3 time.Time) (err error) {
	if s.failing() {
		return s.fail.err()
	}
	return s.inner.RevokeUserClientTokens(a0, a1, a2, a3)
}

func (s *failingStore) DeleteExpiredTokens(a0 context.Context, a1 time.Time) (r0 int64, err error) {
	if s.failing() {
		return r0, s.fail.err()
	}
	return s.inner.DeleteExpiredTokens(a0, a1)
}

func (s *failingStore) CreateSigningKey(a0 context.Context, a1 *storage.SigningKey) (err error) {
	if s.failing() {
		return s.fail.err()
	}
	return s.inner.CreateSigningKey(a0, a1)
}

func (s *failingStore) ListSigningKeys(a0 context.Context) (r0 []storage.SigningKey, err error) {
	if s.failing() {
		return r0, s.fail.err()
	}
	return s.inner.ListSigningKeys(a0)
}

func (s *failingStore) RetireSigningKey(a0 context.Context, a1 string, a2 time.Time) (err error) {
	if s.failing() {
		return s.fail.err()
	}
	return s.inner.RetireSigningKey(a0, a1, a2)
}

func (s *failingStore) DeleteSigningKey(a0 context.Context, a1 string) (err error) {
	if s.failing() {
		return s.fail.err()
	}
	return s.inner.DeleteSigningKey(a0, a1)
}

func (s *failingStore) PutPendingFactor(a0 context.Context, a1 *storage.FactorBinding) (err error) {
	if s.failing() {
		return s.fail.err()
	}
	return s.inner.PutPendingFactor(a0, a1)
}

func (s *failingStore) GetFactor(a0 context.Context, a1 string, a2 string) (r0 *storage.FactorBinding, err error) {
	if s.failing() {
		return r0, s.fail.err()
	}
	return s.inner.GetFactor(a0, a1, a2)
}

func (s *failingStore) ListFactors(a0 context.Context, a1 string) (r0 []storage.FactorBinding, err error) {
	if s.failing() {
		return r0, s.fail.err()
	}
	return s.inner.ListFactors(a0, a1)
}

func (s *failingStore) ConfirmFactor(a0 context.Context, a1 string, a2 time.Time, a3 int64) (err error) {
	if s.failing() {
		return s.fail.err()
	}
	return s.inner.ConfirmFactor(a0, a1, a2, a3)
}

func (s *failingStore) UseTOTPStep(a0 context.Context, a1 string, a2 int64) (err error) {
	if s.failing() {
		return s.fail.err()
	}
	return s.inner.UseTOTPStep(a0, a1, a2)
}

func (s *failingStore) DeleteFactors(a0 context.Context, a1 string, a2 string) (err error) {
	if s.failing() {
		return s.fail.err()
	}
	return s.inner.DeleteFactors(a0, a1, a2)
}

func (s *failingStore) DeleteAllFactorsOfKind(a0 context.Context, a1 string) (r0 int64, err error) {
	if s.failing() {
		return r0, s.fail.err()
	}
	return s.inner.DeleteAllFactorsOfKind(a0, a1)
}

func (s *failingStore) CountFactorsOfKind(a0 context.Context, a1 string) (r0 int64, err error) {
	if s.failing() {
		return r0, s.fail.err()
	}
	return s.inner.CountFactorsOfKind(a0, a1)
}

func (s *failingStore) CreateEmailCode(a0 context.Context, a1 *storage.EmailCode) (err error) {
	if s.failing() {
		return s.fail.err()
	}
	return s.inner.CreateEmailCode(a0, a1)
}

func (s *failingStore) LatestEmailCode(a0 context.Context, a1 string, a2 string, a3 string) (r0 *storage.EmailCode, err error) {
	if s.failing() {
		return r0, s.fail.err()
	}
	return s.inner.LatestEmailCode(a0, a1, a2, a3)
}

func (s *failingStore) UseEmailCode(a0 context.Context, a1 string, a2 time.Time) (err error) {
	if s.failing() {
		return s.fail.err()
	}
	return s.inner.UseEmailCode(a0, a1, a2)
}

func (s *failingStore) ReplaceBackupCodes(a0 context.Context, a1 string, a2 []string, a3 time.Time) (err error) {
	if s.failing() {
		return s.fail.err()
	}
	return s.inner.ReplaceBackupCodes(a0, a1, a2, a3)
}

func (s *failingStore) UseBackupCode(a0 context.Context, a1 string, a2 string, a3 time.Time) (err error) {
	if s.failing() {
		return s.fail.err()
	}
	return s.inner.UseBackupCode(a0, a1, a2, a3)
}

func (s *failingStore) CountUnusedBackupCodes(a0 context.Context, a1 string) (r0 int, err error) {
	if s.failing() {
		return r0, s.fail.err()
	}
	return s.inner.CountUnusedBackupCodes(a0, a1)
}

func (s *failingStore) DeleteBackupCodes(a0 context.Context, a1 string) (err error) {
	if s.failing() {
		return s.fail.err()
	}
	return s.inner.DeleteBackupCodes(a0, a1)
}

func (s *failingStore) AppendAudit(a0 context.Context, a1 *storage.AuditEvent) (err error) {
	if s.failing() {
		return s.fail.err()
	}
	return s.inner.AppendAudit(a0, a1)
}

func (s *failingStore) ListAudit(a0 context.Context, a1 storage.AuditFilter) (r0 []storage.AuditEvent, err error) {
	if s.failing() {
		return r0, s.fail.err()
	}
	return s.inner.ListAudit(a0, a1)
}

func (s *failingStore) GetSetting(a0 context.Context, a1 string) (r0 []byte, err error) {
	if s.failing() {
		return r0, s.fail.err()
	}
	return s.inner.GetSetting(a0, a1)
}

func (s *failingStore) PutSetting(a0 context.Context, a1 string, a2 []byte, a3 time.Time) (err error) {
	if s.failing() {
		return s.fail.err()
	}
	return s.inner.PutSetting(a0, a1, a2, a3)
}

func (s *failingStore) DeleteRateLimitsBefore(a0 context.Context, a1 time.Time) (int64, error) {
	if s.failing() {
		return 0, s.fail.err()
	}
	return s.inner.DeleteRateLimitsBefore(a0, a1)
}

func (s *failingStore) HitRateLimit(a0 context.Context, a1 string, a2 time.Time, a3 time.Duration) (r0 int, err error) {
	if s.failing() {
		return r0, s.fail.err()
	}
	return s.inner.HitRateLimit(a0, a1, a2, a3)
}

func (s *failingStore) Ping(a0 context.Context) (err error) {
	if s.failing() {
		return s.fail.err()
	}
	return s.inner.Ping(a0)
}

func (s *failingStore) PutShownBackupCodes(a0 context.Context, a1 *storage.ShownBackupCodes) error {
	if s.failing() {
		return s.fail.err()
	}
	return s.inner.PutShownBackupCodes(a0, a1)
}

func (s *failingStore) GetShownBackupCodes(a0 context.Context, a1 string) (r0 *storage.ShownBackupCodes, err error) {
	if s.failing() {
		return r0, s.fail.err()
	}
	return s.inner.GetShownBackupCodes(a0, a1)
}

func (s *failingStore) DeleteShownBackupCodes(a0 context.Context, a1 string) error {
	if s.failing() {
		return s.fail.err()
	}
	return s.inner.DeleteShownBackupCodes(a0, a1)
}

func (s *failingStore) QueryUsers(a0 context.Context, a1 storage.UserQuery) (r0 storage.UserPage, err error) {
	if s.failing() {
		return r0, s.fail.err()
	}
	return s.inner.QueryUsers(a0, a1)
}

func (s *failingStore) CountUsers(a0 context.Context, a1 storage.UserQuery) (r0 int64, err error) {
	if s.failing() {
		return r0, s.fail.err()
	}
	return s.inner.CountUsers(a0, a1)
}

func (s *failingStore) CountUserStates(a0 context.Context, a1 time.Time) (r0 storage.UserCounts, err error) {
	if s.failing() {
		return r0, s.fail.err()
	}
	return s.inner.CountUserStates(a0, a1)
}

func (s *failingStore) QueryClients(a0 context.Context, a1 storage.ClientQuery) (r0 storage.ClientPage, err error) {
	if s.failing() {
		return r0, s.fail.err()
	}
	return s.inner.QueryClients(a0, a1)
}

func (s *failingStore) CountClients(a0 context.Context) (r0 int64, err error) {
	if s.failing() {
		return r0, s.fail.err()
	}
	return s.inner.CountClients(a0)
}

func (s *failingStore) CountClientUsers(a0 context.Context, a1 time.Time) (r0 map[string]int64, err error) {
	if s.failing() {
		return r0, s.fail.err()
	}
	return s.inner.CountClientUsers(a0, a1)
}

func (s *failingStore) ListSessions(a0 context.Context, a1 string, a2 time.Time) (r0 []storage.SessionInfo, err error) {
	if s.failing() {
		return r0, s.fail.err()
	}
	return s.inner.ListSessions(a0, a1, a2)
}

func (s *failingStore) DeleteUserSession(a0 context.Context, a1, a2 string) error {
	if s.failing() {
		return s.fail.err()
	}
	return s.inner.DeleteUserSession(a0, a1, a2)
}

func (s *failingStore) UseTOTPStepAt(a0 context.Context, a1 string, a2 int64, a3 time.Time) error {
	if s.failing() {
		return s.fail.err()
	}
	return s.inner.UseTOTPStepAt(a0, a1, a2, a3)
}

func (s *failingStore) QueryAudit(a0 context.Context, a1 storage.AuditQuery) (r0 storage.AuditPage, err error) {
	if s.failing() {
		return r0, s.fail.err()
	}
	return s.inner.QueryAudit(a0, a1)
}

func (s *failingStore) EachAudit(a0 context.Context, a1 storage.AuditQuery, a2 func(*storage.AuditEvent) error) error {
	if s.failing() {
		return s.fail.err()
	}
	return s.inner.EachAudit(a0, a1, a2)
}
