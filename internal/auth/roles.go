package auth

import (
	"context"
	"slices"
)

// Permission is one thing a principal may do. Every route of the API is
// guarded by exactly one permission; roles and API-key scopes are sets of
// them.
type Permission string

// The permissions.
const (
	PermQRGerar           Permission = "qr:gerar"           // generate QR codes
	PermQRLer             Permission = "qr:ler"             // read QR codes
	PermQRValidar         Permission = "qr:validar"         // validate and redeem (check-in)
	PermQRRevogar         Permission = "qr:revogar"         // revoke QR codes
	PermComandaLer        Permission = "comanda:ler"        // read tabs and their movements
	PermComandaMovimentar Permission = "comanda:movimentar" // credit and debit tabs
	PermCacheLer          Permission = "cache:ler"          // read cache items
	PermCacheGravar       Permission = "cache:gravar"       // write and delete cache items
	PermCacheEstatisticas Permission = "cache:estatisticas" // cache statistics and analysis
	PermCacheAdmin        Permission = "cache:admin"        // clear, optimise, configure areas
	PermMonitorLer        Permission = "monitor:ler"        // metrics, history, alerts (read)
	PermMonitorAlterar    Permission = "monitor:alterar"    // alert rules, silences, acknowledgements
	PermBackupListar      Permission = "backup:listar"      // list backups and jobs
	PermBackupAdmin       Permission = "backup:admin"       // run, restore, delete, configure, retention
	PermUsuariosAdmin     Permission = "usuarios:admin"     // manage users
	PermChavesAdmin       Permission = "chaves:admin"       // manage API keys
	PermAuditoriaLer      Permission = "auditoria:ler"      // read the audit log
	PermMetricasLer       Permission = "metricas:ler"       // Prometheus metrics
	PermAuthProprio       Permission = "auth:proprio"       // the caller's own session (me, logout)
)

// AllPermissions lists every permission, in a stable order.
func AllPermissions() []Permission {
	return []Permission{
		PermQRGerar, PermQRLer, PermQRValidar, PermQRRevogar,
		PermComandaLer, PermComandaMovimentar,
		PermCacheLer, PermCacheGravar, PermCacheEstatisticas, PermCacheAdmin,
		PermMonitorLer, PermMonitorAlterar,
		PermBackupListar, PermBackupAdmin,
		PermUsuariosAdmin, PermChavesAdmin, PermAuditoriaLer, PermMetricasLer, PermAuthProprio,
	}
}

// Valid reports whether p is a known permission.
func (p Permission) Valid() bool { return slices.Contains(AllPermissions(), p) }

// Role is a user's role.
type Role string

// The roles.
const (
	RoleAdmin    Role = "admin"    // everything
	RoleOperador Role = "operador" // day-to-day operation of an event
	RoleLeitura  Role = "leitura"  // read-only dashboards
)

// Roles lists the roles.
func Roles() []Role { return []Role{RoleAdmin, RoleOperador, RoleLeitura} }

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return r == RoleAdmin || r == RoleOperador || r == RoleLeitura }

// Permissions returns the permissions the role grants, in the order of
// AllPermissions; nil for an unknown role.
func (r Role) Permissions() []Permission {
	switch r {
	case RoleAdmin:
		return AllPermissions()
	case RoleOperador:
		return []Permission{
			PermQRGerar, PermQRLer, PermQRValidar,
			PermComandaLer, PermComandaMovimentar,
			PermCacheLer, PermCacheGravar, PermCacheEstatisticas,
			PermMonitorLer, PermBackupListar, PermMetricasLer, PermAuthProprio,
		}
	case RoleLeitura:
		return []Permission{PermMonitorLer, PermCacheEstatisticas, PermBackupListar, PermMetricasLer, PermAuthProprio}
	}
	return nil
}

// Has reports whether the role grants perm.
func (r Role) Has(perm Permission) bool { return slices.Contains(r.Permissions(), perm) }

// The kinds of principal.
const (
	PrincipalUser   = "usuario"
	PrincipalAPIKey = "chave"
)

// Principal is who is calling: a user (by access token) or a device (by
// API key).
type Principal struct {
	Tipo  string `json:"tipo" enum:"usuario,chave" doc:"usuario (access token) or chave (API key)"`
	ID    string `json:"id" example:"1" doc:"User id, or API key id"`
	Nome  string `json:"nome" example:"Maria Souza"`
	Email string `json:"email,omitempty" example:"maria@exemplo.com.br" doc:"Users only"`
	Papel Role   `json:"papel,omitempty" enum:"admin,operador,leitura" doc:"Users only"`
	// Escopos is what the principal may do: an API key's scopes (plus
	// auth:proprio), or the permissions of a user's role.
	Escopos []Permission `json:"escopos" example:"[\"qr:validar\",\"auth:proprio\"]"`
}

// Can reports whether the principal has perm: a user through its role, an
// API key through its scopes (every key has auth:proprio). A nil principal
// can do nothing.
func (p *Principal) Can(perm Permission) bool {
	if p == nil || perm == "" {
		return false
	}
	switch p.Tipo {
	case PrincipalUser:
		return p.Papel.Has(perm)
	case PrincipalAPIKey:
		return perm == PermAuthProprio || slices.Contains(p.Escopos, perm)
	}
	return false
}

// String names the principal for logs and the audit log: "usuario:1".
func (p *Principal) String() string {
	if p == nil {
		return "anonimo"
	}
	return p.Tipo + ":" + p.ID
}

type principalKey struct{}

// WithPrincipal returns ctx carrying p.
func WithPrincipal(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// PrincipalFrom returns the principal in ctx, or nil.
func PrincipalFrom(ctx context.Context) *Principal {
	p, _ := ctx.Value(principalKey{}).(*Principal)
	return p
}

type clientIPKey struct{}

// WithClientIP returns ctx carrying the client's IP address, which Record
// copies into audit entries that do not name one.
func WithClientIP(ctx context.Context, ip string) context.Context {
	return context.WithValue(ctx, clientIPKey{}, ip)
}

// ClientIPFrom returns the client IP in ctx, or "".
func ClientIPFrom(ctx context.Context) string {
	ip, _ := ctx.Value(clientIPKey{}).(string)
	return ip
}
