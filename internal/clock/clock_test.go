package clock

import (
	"sync"
	"testing"
	"time"
)

func TestFakeAdvanceMovesNowForward(t *testing.T) {
	var f Fake
	before := f.Now()
	f.Advance(time.Hour)
	if got := f.Now().Sub(before); got < time.Hour || got > time.Hour+time.Minute {
		t.Fatalf("after Advance(1h) the clock moved %s", got)
	}
}

func TestFakeIsSafeForConcurrentUse(t *testing.T) {
	var f Fake
	start := f.Now()
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 100 {
				f.Advance(time.Second)
				f.Now()
			}
		}()
	}
	wg.Wait()
	if got := f.Now().Sub(start); got < 800*time.Second {
		t.Fatalf("800 advances of 1s moved the clock %s", got)
	}
}
