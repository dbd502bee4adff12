package pgtest

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Server is a private PostgreSQL server for tests that stop and start it.
type Server struct {
	URL     string
	bin     string
	dataDir string
	sockDir string
	port    int
	asUser  string // run as this system user (PostgreSQL refuses root)
	t       testing.TB
}

// binDir finds the PostgreSQL server programs.
func binDir() string {
	if d := os.Getenv("KUNDING_TEST_POSTGRES_BIN"); d != "" {
		return d
	}
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(matches) > 0 {
		return filepath.Dir(matches[len(matches)-1])
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(p)
	}
	return ""
}

// StartServer initialises and starts a throw-away PostgreSQL server (with
// initdb and pg_ctl) that the test may stop and start; it is removed when
// the test ends. Like URL, it is skipped loudly without PostgreSQL, and fails
// when KUNDING_REQUIRE_POSTGRES=1.
func StartServer(t testing.TB) *Server {
	t.Helper()
	bin := binDir()
	if bin == "" {
		msg := "PostgreSQL TESTS NOT RUN: no initdb found (install postgresql, or set KUNDING_TEST_POSTGRES_BIN)"
		if os.Getenv("KUNDING_REQUIRE_POSTGRES") == "1" {
			t.Fatal(msg)
		}
		t.Skip("!!! " + msg)
	}
	s := &Server{bin: bin, t: t}
	if os.Geteuid() == 0 {
		s.asUser = "postgres"
		if _, err := user.Lookup(s.asUser); err != nil {
			t.Fatalf("running as root needs the system user postgres to run a test server: %v", err)
		}
	}
	dir, err := os.MkdirTemp("", "kunding-pg-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	s.dataDir, s.sockDir = filepath.Join(dir, "data"), dir
	if s.asUser != "" {
		os.Chmod(dir, 0o777)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.port = l.Addr().(*net.TCPAddr).Port
	l.Close()
	s.run("initdb", "-D", s.dataDir, "-U", "kunding", "--auth=trust", "-E", "UTF8", "--no-sync")
	conf := fmt.Sprintf("\nport = %d\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '%s'\nfsync = off\nmax_connections = 200\n", s.port, s.sockDir)
	if err := appendFile(filepath.Join(s.dataDir, "postgresql.conf"), conf); err != nil {
		t.Fatal(err)
	}
	s.Start()
	t.Cleanup(func() { s.run("pg_ctl", "-D", s.dataDir, "-m", "immediate", "-w", "stop") })
	s.URL = fmt.Sprintf("postgres://kunding@127.0.0.1:%d/postgres?sslmode=disable", s.port)
	return s
}

func appendFile(path, text string) error {
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = f.WriteString(text)
	return err
}

func (s *Server) run(prog string, args ...string) {
	s.t.Helper()
	var cmd *exec.Cmd
	if s.asUser != "" {
		cmd = exec.Command("runuser", append([]string{"-u", s.asUser, "--", filepath.Join(s.bin, prog)}, args...)...)
	} else {
		cmd = exec.Command(filepath.Join(s.bin, prog), args...)
	}
	out, err := cmd.CombinedOutput()
	if err != nil && !(prog == "pg_ctl" && strings.Contains(string(out), "is the server running")) {
		s.t.Fatalf("%s %s: %v\n%s", prog, strings.Join(args, " "), err, out)
	}
}

// Start starts the server and waits until it accepts connections.
func (s *Server) Start() {
	s.t.Helper()
	s.run("pg_ctl", "-D", s.dataDir, "-l", filepath.Join(s.sockDir, "log"), "-w", "-t", "60", "start")
	for i := 0; i < 100; i++ {
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", s.port))
		if err == nil {
			c.Close()
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	s.t.Fatal("test PostgreSQL did not start")
}

// Stop stops the server the way a crash looks to clients: connections are
// cut at once, and the next start runs crash recovery.
func (s *Server) Stop() {
	s.t.Helper()
	s.run("pg_ctl", "-D", s.dataDir, "-m", "immediate", "-w", "stop")
}
