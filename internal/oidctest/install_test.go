package oidctest

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCheckInstall: node_modules must hold oidc-provider and the stamp of
// the package.json and lockfile there now, as the script writes it.
func TestCheckInstall(t *testing.T) {
	dir := t.TempDir()
	write := func(rel, content string) {
		t.Helper()
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("package.json", "{\"a\":1}\n")
	write("package-lock.json", "{\"b\":2}\n")
	if err := checkInstall(dir); err == nil || !strings.Contains(err.Error(), "oidc-provider is not installed in "+filepath.Join(dir, "node_modules")) {
		t.Errorf("without node_modules: %v", err)
	}
	write("node_modules/oidc-provider/package.json", "{}")
	if err := checkInstall(dir); err == nil || !strings.Contains(err.Error(), "was not installed from package-lock.json as it is now") {
		t.Errorf("without a stamp: %v", err)
	}
	sum := sha256.Sum256([]byte("{\"a\":1}\n{\"b\":2}\n"))
	write("node_modules/"+stampFile, hex.EncodeToString(sum[:])+"\n")
	if err := checkInstall(dir); err != nil {
		t.Errorf("with the stamp: %v", err)
	}
	write("package-lock.json", "{\"b\":3}\n")
	if err := checkInstall(dir); err == nil || !strings.Contains(err.Error(), "was not installed from package-lock.json as it is now") {
		t.Errorf("with a stamp of another lockfile: %v", err)
	}
}

// TestStampMatchesScript: the stamp the script wrote for the real
// provider directory is the one checkInstall wants (skipped when the
// provider is not installed, or with JWTAUTHTEST_SKIP_OIDC=1).
func TestStampMatchesScript(t *testing.T) {
	if os.Getenv(SkipEnv) == "1" {
		t.Skip(SkipEnv + "=1")
	}
	dir, err := ProviderDir()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", stampFile)); err != nil {
		t.Skipf("no stamp (run %s): %v", Script, err)
	}
	if err := checkInstall(dir); err != nil {
		t.Error(err)
	}
}
