//go:build cgo

package audio

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// startPulse runs a PulseAudio daemon of the test's own, with a null
// sink "soitto_test" (48 kHz mono) whose monitor source hears what is
// played to it, and points this process at it. Without the pulseaudio
// binary the test is skipped, except on CI, which must run it.
func startPulse(t *testing.T) {
	t.Helper()
	bin, err := exec.LookPath("pulseaudio")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("pulseaudio is not installed, and CI must run the system device tests")
		}
		t.Skip("pulseaudio is not installed")
	}
	// Not t.TempDir: a unix socket's path must stay short.
	dir, err := os.MkdirTemp("", "soitto-pulse")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	sock := filepath.Join(dir, "native")
	cmd := exec.Command(bin, "-n", "--daemonize=no", "--exit-idle-time=-1", "--disallow-exit",
		"--use-pid-file=no", "--system=false", "--log-target=stderr",
		"-L", "module-native-protocol-unix auth-anonymous=1 socket="+sock,
		"-L", "module-null-sink sink_name=soitto_test rate=48000 channels=1")
	cmd.Env = append(os.Environ(), "XDG_RUNTIME_DIR="+dir, "PULSE_RUNTIME_PATH="+dir, "HOME="+dir)
	var log bytes.Buffer
	cmd.Stderr = &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
	})
	t.Setenv("PULSE_SERVER", "unix:"+sock)
	deadline := time.Now().Add(10 * time.Second)
	for {
		if exec.Command("pactl", "info").Run() == nil {
			return
		}
		select {
		case <-exited:
			t.Fatalf("pulseaudio exited: %s", log.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("pulseaudio does not answer after 10s: %s", log.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestSystemDevices: a tone played to a PulseAudio sink is heard on its
// monitor, through OpenSpeaker and OpenMic.
func TestSystemDevices(t *testing.T) {
	startPulse(t)
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())

	t.Run("list", func(t *testing.T) {
		capture, playback, err := Devices()
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("capture %+v, playback %+v", capture, playback)
		if !hasDevice(capture, "soitto_test.monitor") || !hasDevice(playback, "soitto_test") {
			t.Errorf("got capture %+v and playback %+v, want soitto_test.monitor and soitto_test", capture, playback)
		}
	})

	t.Run("loopback", func(t *testing.T) {
		spk, err := OpenSpeaker("soitto_test")
		if err != nil {
			t.Fatal(err)
		}
		defer spk.Close()
		mic, err := OpenMic("soitto_test.monitor")
		if err != nil {
			t.Fatal(err)
		}
		defer mic.Close()

		// A null sink wakes up slowly (it sleeps up to 2 s while idle),
		// so the sound starts flowing a second or two after the streams
		// open: wait for the microphone's first frames, feeding the
		// speaker silence meanwhile. From then on the microphone is the
		// clock: one frame played per frame heard.
		frame := make([]int16, FrameSamples)
		silence := make([]int16, FrameSamples)
		read := readWithin(t, mic, 5*time.Second)
		for range 10 {
			read(frame)
			if err := spk.Write(silence); err != nil {
				t.Fatal(err)
			}
		}
		const playFrames, captureFrames = 50, 75 // 1 s of tone, 1.5 s heard
		src := NewTone(1000)
		defer src.Close()
		src.(*tone).SetPaced(false)
		var heard []int16
		for i := range captureFrames {
			if i < playFrames {
				if err := src.Read(frame); err != nil {
					t.Fatal(err)
				}
				if err := spk.Write(frame); err != nil {
					t.Fatal(err)
				}
			}
			read(frame)
			heard = append(heard, frame...)
		}

		loud, first := 0, -1
		for i := 0; i+FrameSamples <= len(heard); i += FrameSamples {
			if rms(heard[i:i+FrameSamples]) > 1000 {
				loud++
				if first < 0 {
					first = i / FrameSamples
				}
			}
		}
		t.Logf("heard %d loud frames of %d played, the first after %d ms; speaker %+v, mic %+v",
			loud, playFrames, first*20, spk.(interface{ Stats() DeviceStats }).Stats(), mic.(interface{ Stats() DeviceStats }).Stats())
		if loud < playFrames*8/10 {
			t.Fatalf("got %d frames with sound, want about %d", loud, playFrames)
		}
		on := goertzel(heard, 1000)
		for _, off := range []float64{500, 2000} {
			if d := dB(on, goertzel(heard, off)); d < 20 {
				t.Errorf("1000 Hz is %.1f dB above %v Hz, want 20 or more", d, off)
			}
		}
	})
}

// readWithin returns a function that reads a frame from src or fails
// the test if none comes within d.
func readWithin(t *testing.T, src Source, d time.Duration) func([]int16) {
	return func(frame []int16) {
		t.Helper()
		timer := time.AfterFunc(d, func() { src.Close() })
		defer timer.Stop()
		if err := src.Read(frame); errors.Is(err, ErrClosed) {
			t.Fatalf("no sound from the microphone within %v", d)
		} else if err != nil {
			t.Fatal(err)
		}
	}
}

func hasDevice(devs []DeviceInfo, id string) bool {
	for _, d := range devs {
		if d.ID == id {
			return true
		}
	}
	return false
}

// TestSystemNoDevice: with no PulseAudio and no ALSA card, opening a
// device fails with ErrNoDevice and a one-line reason.
func TestSystemNoDevice(t *testing.T) {
	t.Setenv("PULSE_SERVER", "unix:/nonexistent/soitto/native")
	for name, open := range map[string]func() (interface{ Close() error }, error){
		"mic":     func() (interface{ Close() error }, error) { return OpenMic("") },
		"speaker": func() (interface{ Close() error }, error) { return OpenSpeaker("") },
		"named":   func() (interface{ Close() error }, error) { return OpenMic("soitto_none") },
	} {
		t.Run(name, func(t *testing.T) {
			dev, err := open()
			if err == nil {
				dev.Close()
				t.Skip("this machine has an ALSA device of its own")
			}
			t.Logf("error: %v", err)
			if !errors.Is(err, ErrNoDevice) || strings.Contains(err.Error(), "\n") {
				t.Errorf("got %q, want one line wrapping ErrNoDevice", err)
			}
		})
	}
}
