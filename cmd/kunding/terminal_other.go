//go:build !linux

package main

import (
	"errors"
	"os"
)

// isTerminal is false where Kunding cannot turn echo off: the password
// must then come through --password-stdin.
func isTerminal(f *os.File) bool { return false }

func noEcho(f *os.File) (func(), error) { return nil, errors.New("no terminal support") }
