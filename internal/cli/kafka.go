package cli

import (
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/recordusage/recordusage/internal/kafkax"
)

// KafkaPasswordEnv is the environment variable of the SASL password. The password has no flag
// on purpose: a command line is visible to every user of the machine (ps, /proc) and ends up
// in shell histories and process supervisors' logs.
const KafkaPasswordEnv = "RECORD_KAFKA_SASL_PASSWORD"

// KafkaSecurity holds a command's Kafka security flags until they are parsed; Load then
// returns the settings. Every command that talks to Kafka registers them the same way, so the
// flags and their RECORD_* variables are the same for ingest, query and the load generator.
type KafkaSecurity struct {
	sec          kafkax.Security
	passwordFile string
}

// RegisterKafkaSecurity registers the Kafka TLS and SASL flags on fs.
func RegisterKafkaSecurity(fs *flag.FlagSet) *KafkaSecurity {
	k := &KafkaSecurity{}
	fs.BoolVar(&k.sec.TLS, "kafka-tls", false, "connect to Kafka with TLS")
	fs.StringVar(&k.sec.CAFile, "kafka-tls-ca", "", "PEM file of the CAs that sign the brokers' certificates (default: the system's roots)")
	fs.StringVar(&k.sec.CertFile, "kafka-tls-cert", "", "PEM client certificate, for brokers that authenticate clients by certificate (with --kafka-tls-key)")
	fs.StringVar(&k.sec.KeyFile, "kafka-tls-key", "", "PEM private key of --kafka-tls-cert")
	fs.StringVar(&k.sec.ServerName, "kafka-tls-server-name", "", "name the brokers' certificates must be valid for (default: the host of each broker address)")
	fs.BoolVar(&k.sec.InsecureSkipVerify, "kafka-tls-insecure-skip-verify", false, "accept any broker certificate: development only, logged as a warning")
	fs.StringVar(&k.sec.SASLMechanism, "kafka-sasl-mechanism", "", "SASL mechanism: PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512 (default: no SASL)")
	fs.StringVar(&k.sec.SASLUser, "kafka-sasl-user", "", "SASL user")
	fs.StringVar(&k.passwordFile, "kafka-sasl-password-file", "", "file holding the SASL password; or set "+KafkaPasswordEnv+" (there is no password flag)")
	return k
}

// Load returns the settings once the flags are parsed: the password read from
// RECORD_KAFKA_SASL_PASSWORD or --kafka-sasl-password-file, everything validated, and the
// risky choices (no certificate verification, PLAIN without TLS) logged as warnings on log.
func (k *KafkaSecurity) Load(log *slog.Logger) (kafkax.Security, error) {
	sec := k.sec
	sec.SASLMechanism = strings.ToUpper(strings.TrimSpace(sec.SASLMechanism))
	pw, err := k.password()
	if err != nil {
		return kafkax.Security{}, err
	}
	sec.SASLPassword = pw
	if sec.SASLMechanism != "" && pw == "" {
		return kafkax.Security{}, fmt.Errorf("--kafka-sasl-mechanism %s needs a password: set %s or --kafka-sasl-password-file",
			sec.SASLMechanism, KafkaPasswordEnv)
	}
	if err := sec.Validate(); err != nil {
		return kafkax.Security{}, fmt.Errorf("kafka security flags (--kafka-*): %w", err)
	}
	for _, w := range sec.Warnings() {
		log.Warn(w)
	}
	return sec, nil
}

// password returns the SASL password of the environment or of the password file, and an error
// when both are given: which one would win is not obvious, so neither does.
func (k *KafkaSecurity) password() (kafkax.Secret, error) {
	env, inEnv := os.LookupEnv(KafkaPasswordEnv)
	switch {
	case inEnv && k.passwordFile != "":
		return "", fmt.Errorf("both %s and --kafka-sasl-password-file are set: use one", KafkaPasswordEnv)
	case inEnv:
		return kafkax.Secret(env), nil
	case k.passwordFile == "":
		return "", nil
	}
	b, err := os.ReadFile(k.passwordFile)
	if err != nil {
		// The error names the file, never its content.
		return "", fmt.Errorf("--kafka-sasl-password-file: %w", err)
	}
	// Files usually end in a newline, which is not part of the password.
	pw := strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r")
	if pw == "" {
		return "", errors.New("--kafka-sasl-password-file " + k.passwordFile + " is empty")
	}
	return kafkax.Secret(pw), nil
}
