// Package qrcode issues, renders and validates the QR codes of events and
// venues: check-in tickets, event info, PDV tables, comandas (tabs),
// products, URLs, free text and PIX payments. Codes that grant something
// carry an Ed25519-signed compact token (package token); every issued code
// is recorded in the store; every styled image is decoded before it is
// returned, so a code that does not scan is never handed out.
package qrcode

import (
	"errors"
	"fmt"
)

// FieldError is bad input in one field (named as in the JSON body).
type FieldError struct {
	Field  string
	Reason string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Reason }

func fieldErr(field, format string, args ...any) *FieldError {
	return &FieldError{Field: field, Reason: fmt.Sprintf(format, args...)}
}

// Errors the API maps to HTTP statuses.
var (
	ErrNotFound     = errors.New("não encontrado")
	ErrConflict     = errors.New("conflito")
	ErrInsufficient = errors.New("saldo insuficiente")
	ErrUnscannable  = errors.New("o código gerado não pôde ser lido de volta")
)
