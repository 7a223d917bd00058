// Package auth is who may call the service and what they may do: users
// with argon2id passwords and roles, short-lived access tokens (JWT) with
// rotating refresh tokens, API keys for devices, permissions, the login
// guard and rate limiter, and the audit log.
//
// # Tokens
//
// Access tokens are JWTs signed with Ed25519 (EdDSA). An asymmetric
// algorithm was chosen over HS256 because the verifying half can be handed
// out (a reverse proxy or a second service can check tokens without being
// able to mint them), because keys are tiny and signatures deterministic,
// and because the parser accepts exactly one algorithm, "EdDSA", so neither
// "alg: none" nor the HS256-with-the-public-key confusion can get through.
// Every token names its key in the "kid" header (derived from the public
// key); the keyring signs with one active key and still verifies the older
// ones, so keys rotate without logging anybody out. The signing key comes
// from Options.SigningKey, or is generated once into a file in the data
// folder (see keys.go).
//
// An access token is checked against the store (briefly cached): an
// unknown or inactive user, a role that changed or a session version that
// moved (password, role or active flag changed) rejects it before it
// expires.
//
// Refresh tokens are opaque ("pnr_" + 256 random bits), stored as SHA-256
// hashes, and belong to a family (one login). Each refresh rotates the
// token; presenting an already-rotated token again revokes the whole
// family, because one of the two holders is a thief.
//
// # API keys
//
// Devices authenticate with "pnk_<id>_<secret>" in Authorization: Bearer
// or X-API-Key. The key is found by id and its secret's SHA-256 compared in
// constant time; its scopes are permissions.
//
// # HTTP
//
// Register mounts /auth, /usuarios, /auth/chaves and /auditoria; it does
// not enforce permissions: the integrator's middleware does, for example
// with Service.Middleware and a table mapping each operation to one
// Permission (see OperationPermissions for this package's routes).
package auth
