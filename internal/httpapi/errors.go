package httpapi

import (
	"context"
	"errors"
	"log/slog"

	"github.com/danielgtaylor/huma/v2"
)

// FieldError is a validation error of a module's service naming the body field at fault; the
// API answers it 422 with the field as location "body.<Field>".
type FieldError struct{ Field, Reason string }

func (e *FieldError) Error() string { return e.Field + ": " + e.Reason }

// ServiceError maps what a module's service returned to the API's answer, for the cases every
// module shares: nil stays nil, a FieldError is 422 naming the field, a cancelled or timed-out
// request is 503, and anything else is logged and answered 503 "<module> indisponível" with no
// internal detail (the request id in the problem ties it to the log). Modules map their own
// errors (not found, conflicts) before calling it.
func ServiceError(ctx context.Context, log *slog.Logger, module string, err error) error {
	var fe *FieldError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &fe):
		return huma.Error422UnprocessableEntity("validation failed", &huma.ErrorDetail{Location: "body." + fe.Field, Message: fe.Reason})
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return huma.Error503ServiceUnavailable("requisição cancelada")
	}
	log.ErrorContext(ctx, module+": unexpected error", "error", err)
	return huma.Error503ServiceUnavailable(module + " indisponível; informe o request id")
}
