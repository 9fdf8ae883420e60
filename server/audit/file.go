package audit

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"

	"gopkg.in/natefinch/lumberjack.v2"
)

// FileConfig is a JSON Lines file sink: one event per line, rotated by
// lumberjack when it grows past MaxSizeMB.
type FileConfig struct {
	// Path of the current file; rotated files sit beside it, named with
	// their rotation time.
	Path string `yaml:"path"`
	// MaxSizeMB rotates the file past this size. Default 100.
	MaxSizeMB int `yaml:"max_size_mb"`
	// MaxBackups is how many rotated files are kept (0: all, within MaxAgeDays).
	MaxBackups int `yaml:"max_backups"`
	// MaxAgeDays removes rotated files older than this (0: never by age).
	MaxAgeDays int `yaml:"max_age_days"`
	// Compress gzips rotated files.
	Compress bool `yaml:"compress"`
}

// File is the JSON Lines sink.
type File struct {
	w   *lumberjack.Logger
	buf bytes.Buffer // used only by the Trail's one goroutine for this sink
}

// NewFile returns a file sink; the file is opened (created 0600) on the
// first write.
func NewFile(cfg FileConfig) (*File, error) {
	if cfg.Path == "" {
		return nil, errors.New("audit: file sink: path is required")
	}
	if cfg.MaxSizeMB < 0 || cfg.MaxBackups < 0 || cfg.MaxAgeDays < 0 {
		return nil, errors.New("audit: file sink: max_size_mb, max_backups and max_age_days must not be negative")
	}
	if cfg.MaxSizeMB == 0 {
		cfg.MaxSizeMB = 100
	}
	return &File{w: &lumberjack.Logger{
		Filename: cfg.Path, MaxSize: cfg.MaxSizeMB, MaxBackups: cfg.MaxBackups,
		MaxAge: cfg.MaxAgeDays, Compress: cfg.Compress,
	}}, nil
}

// Write appends the batch, one JSON object per line, in one write (so that
// a rotation never splits a line).
func (f *File) Write(_ context.Context, batch []Event) error {
	f.buf.Reset()
	enc := json.NewEncoder(&f.buf)
	enc.SetEscapeHTML(false)
	for i := range batch {
		if err := enc.Encode(&batch[i]); err != nil {
			return err
		}
	}
	_, err := f.w.Write(f.buf.Bytes())
	return err
}

// Close closes the current file.
func (f *File) Close() error { return f.w.Close() }
