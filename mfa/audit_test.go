package mfa_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/stepgate/stepgate/mfa"
)

var codeRE = regexp.MustCompile(`^(auth|mfa|account|workspace|admin)(\.[a-z]+(_[a-z]+)*){1,2}$`)

func TestEventTypesAreOneTableOfDistinctCodesAndLabels(t *testing.T) {
	codes, labels := map[string]bool{}, map[string]bool{}
	for _, et := range mfa.EventTypes() {
		if !codeRE.MatchString(et.Code) {
			t.Errorf("code %q is not area.object.action in lowercase", et.Code)
		}
		if et.Label == "" || et.Label == et.Code || strings.TrimSpace(et.Label) != et.Label {
			t.Errorf("code %s: label %q", et.Code, et.Label)
		}
		if codes[et.Code] || labels[et.Label] {
			t.Errorf("%s / %q appears twice", et.Code, et.Label)
		}
		codes[et.Code], labels[et.Label] = true, true
		if !mfa.IsEventCode(et.Code) || mfa.EventLabel(et.Code) != et.Label {
			t.Errorf("%s: IsEventCode %v, EventLabel %q", et.Code, mfa.IsEventCode(et.Code), mfa.EventLabel(et.Code))
		}
	}
	if len(mfa.EventCodes()) != len(codes) {
		t.Errorf("EventCodes has %d, table %d", len(mfa.EventCodes()), len(codes))
	}
	if mfa.IsEventCode("Secondary authentication - OTP") || mfa.EventLabel("admin.user.fly_away") != "admin.user.fly_away" {
		t.Error("a label is taken as a code, or an unknown code has a label")
	}
	if mfa.EventLabel(mfa.EventOTP) != "Secondary authentication - OTP" {
		t.Errorf("OTP label %q", mfa.EventLabel(mfa.EventOTP))
	}
}
