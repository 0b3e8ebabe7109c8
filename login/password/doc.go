// Package password hashes and checks login passwords with argon2id
// (RFC 9106), stored as PHC strings, and bounds how many hashes run at once,
// so that the login server keeps only hashes that are slow to crack and
// cannot be driven out of memory by a burst of logins.
//
// A stored hash reads
//
//	$argon2id$v=19$m=19456,t=2,p=1$<salt>$<key>
//
// with memory m in KiB, time t in passes, parallelism p in lanes, and salt
// and key in unpadded standard base64, as in the PHC string format
// (https://github.com/P-H-C/phc-string-format) that libargon2 and
// argon2-cffi write.
//
// The login server holds one Hasher and runs every Hash and Verify through
// it; when it answers ErrBusy the server replies 503 with Retry-After.
package password
