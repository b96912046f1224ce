package mfa

import (
	"testing"
	"time"

	"github.com/stepgate/stepgate/storage"
)

func TestDefaultLockouts(t *testing.T) {
	if DefaultMFALockout.Storage() != (storage.Lockout{Threshold: 6, Duration: time.Hour}) {
		t.Errorf("sixth wrong code must lock for one hour, got %+v", DefaultMFALockout)
	}
	if DefaultPasswordLockout.Storage() != (storage.Lockout{Threshold: 10, Duration: 15 * time.Minute}) {
		t.Errorf("tenth wrong password must lock for 15 minutes, got %+v", DefaultPasswordLockout)
	}
	for _, p := range []LockoutPolicy{DefaultMFALockout, DefaultPasswordLockout} {
		if err := p.Validate(); err != nil {
			t.Error(err)
		}
	}
}

func TestLockoutPolicyValidate(t *testing.T) {
	for _, p := range []LockoutPolicy{{}, {Threshold: 0, Duration: time.Hour}, {Threshold: 3}, {Threshold: 3, Duration: -time.Second}} {
		if p.Validate() == nil {
			t.Errorf("%+v accepted", p)
		}
	}
}
