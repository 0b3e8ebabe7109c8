package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"soitto/media/audio"
	"soitto/media/audio/audiotest"
)

// speech makes a WAV of text spoken by espeak-ng (22.05 kHz mono).
func speech(t *testing.T, path, text string) []int16 {
	t.Helper()
	if _, err := exec.LookPath("espeak-ng"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("espeak-ng is not installed (scripts/install-deps.sh installs it)")
		}
		t.Skip("espeak-ng is not installed; the call test needs speech")
	}
	if out, err := exec.Command("espeak-ng", "-w", path, text).CombinedOutput(); err != nil {
		t.Fatalf("espeak-ng: %v %s", err, out)
	}
	pcm, err := audio.ReadWAVFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return pcm
}

// TestCallLocal is issue 6's first "Done when": on a local network,
// `soitto-cli call bob --mic speech.wav --duration 10s` against
// `soitto-cli listen --auto-answer --speaker out.wav` leaves an out.wav
// that matches speech.wav; and bob's side, played back to alice, too.
func TestCallLocal(t *testing.T) {
	bin := buildBinaries(t, "soitto-login", "soitto-node")
	buildWithAudio(t, bin)
	cli := filepath.Join(bin, "soitto-cli")
	as := localNetwork(t, bin)
	dir := t.TempDir()
	aliceWAV, bobWAV := filepath.Join(dir, "speech.wav"), filepath.Join(dir, "bob-speech.wav")
	aliceSaid := speech(t, aliceWAV, "Hello Bob, this is Alice, calling you over Soitto. One, two, three, four, five. The call sounds clear from here.")
	bobSaid := speech(t, bobWAV, "Hi Alice, Bob here. I can hear you well. Let us try the sound both ways, from my microphone to your speaker.")
	register(t, as, cli, "alice", "bob")
	// Strangers: bob lets anyone call (contacts are issue 8's test).
	everyone(t, as("bob"), cli)
	out, heard := filepath.Join(dir, "out.wav"), filepath.Join(dir, "heard.wav")
	cmd := exec.Command(cli, "listen", "--auto-answer", "--mic", bobWAV, "--speaker", out)
	cmd.Env = append(os.Environ(), as("bob")...)
	bob := watchListen(t, cmd)
	bob.expect(t, "online via ", 20*time.Second)

	var r result
	eventually(t, 30*time.Second, func() error {
		r = runCmd(t, as("alice"), cli, "call", "bob", "--mic", aliceWAV, "--speaker", heard, "--duration", "10s")
		if r.code != 0 {
			return &exitError{r}
		}
		return nil
	}, "alice calling bob")
	t.Logf("alice$ soitto-cli call bob --mic speech.wav --speaker heard.wav --duration 10s\n%s%s", r.stdout, r.stderr)
	for _, want := range []string{"call bob ringing", "call bob active", "path  direct (host 127.0.0.1:"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("call output lacks %q", want)
		}
	}
	bob.expect(t, "call from alice active", 10*time.Second)
	bob.expect(t, "call from alice ended: hung up by alice", 15*time.Second)

	for _, c := range []struct {
		name      string
		said      []int16
		recording string
	}{{"alice → bob (out.wav)", aliceSaid, out}, {"bob → alice (heard.wav)", bobSaid, heard}} {
		rec, err := audio.ReadWAVFile(c.recording)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		m := audiotest.Compare(c.said, rec)
		t.Logf("%s: %.1f s recorded for %.1f s said; lag %d ms; correlation %.3f, by 1 s segment %.3f, envelope %.3f",
			c.name, float64(len(rec))/audio.SampleRate, float64(len(c.said))/audio.SampleRate,
			m.Lag*1000/audio.SampleRate, m.Corr, m.SegmentCorr, m.Envelope)
		if m.SegmentCorr < 0.6 || m.Envelope < 0.9 {
			t.Errorf("%s: the recording does not match what was said", c.name)
		}
	}

	// The caller crashes mid-call (kill -9: no hang-up is sent): bob's
	// call ends by itself once the path is gone, saying so.
	crash := exec.Command(cli, "call", "bob", "--mic", "tone:440", "--speaker", "null")
	crash.Env = append(os.Environ(), as("alice")...)
	if err := crash.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { crash.Process.Kill(); crash.Wait() })
	bob.expect(t, "call from alice active", 20*time.Second)
	time.Sleep(time.Second)
	killed := time.Now()
	crash.Process.Kill()
	line := bob.expect(t, "call from alice ended", 40*time.Second)
	t.Logf("alice killed; %v later bob's listen says: %s", time.Since(killed).Round(100*time.Millisecond), line)
	if !strings.Contains(line, "failed (connection lost") {
		t.Errorf("after the caller crashed: %q", line)
	}
}

type exitError struct{ r result }

func (e *exitError) Error() string { return "exit " + e.r.stderr }
