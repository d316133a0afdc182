package store

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/dgraph-io/badger/v4"

	"github.com/eventgw/gateway/gateway/internal/webhook"
)

// Webhook returns the webhook with the given id.
func (s *Store) Webhook(ctx context.Context, id string) (webhook.Webhook, error) {
	var w webhook.Webhook
	if err := ctxErr(ctx); err != nil {
		return w, err
	}
	err := s.db.View(func(txn *badger.Txn) error {
		got, err := getWebhook(txn, id)
		if err == nil {
			w = *got
		}
		return err
	})
	if err != nil && !errors.Is(err, ErrNotFound) {
		err = fmt.Errorf("store: get webhook %q: %w", id, err)
	}
	return w, err
}

func getWebhook(txn *badger.Txn, id string) (*webhook.Webhook, error) {
	item, err := txn.Get(key(prefixWebhook, []byte(id)))
	if errors.Is(err, badger.ErrKeyNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	var w webhook.Webhook
	err = item.Value(func(v []byte) error { return json.Unmarshal(v, &w) })
	if err != nil {
		return nil, fmt.Errorf("decode webhook %q: %w", id, err)
	}
	return &w, nil
}

// Webhooks lists webhooks in descending id order (newest first for
// generated ids). before, if not empty, continues a listing after that id.
func (s *Store) Webhooks(ctx context.Context, before string, limit int) (ws []webhook.Webhook, more bool, err error) {
	if err := ctxErr(ctx); err != nil {
		return nil, false, err
	}
	if limit < 1 {
		limit = 1
	}
	upper := key(prefixWebhook, []byte{0xff})
	if before != "" {
		upper = key(prefixWebhook, []byte(before))
	}
	err = s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Reverse: true, Prefix: prefixWebhook, PrefetchValues: true, PrefetchSize: min(limit+1, 100)})
		defer it.Close()
		for it.Seek(upper); it.Valid(); it.Next() {
			if bytes.Equal(it.Item().Key(), upper) {
				continue
			}
			if len(ws) == limit {
				more = true
				return nil
			}
			var w webhook.Webhook
			if err := it.Item().Value(func(v []byte) error { return json.Unmarshal(v, &w) }); err != nil {
				return fmt.Errorf("decode webhook %q: %w", it.Item().Key(), err)
			}
			ws = append(ws, w)
		}
		return nil
	})
	if err != nil {
		return nil, false, fmt.Errorf("store: list webhooks: %w", err)
	}
	return ws, more, nil
}

// MutateWebhook reads the webhook id (nil if it does not exist), passes it
// to fn and stores what fn returns, all in one transaction: nil deletes the
// webhook. An error from fn aborts without writing and is returned as is.
// fn may run more than once if a concurrent mutation conflicts. The change
// is synced before MutateWebhook returns (Options.Sync): the API answers
// with it, and a lost registration would silently stop deliveries.
func (s *Store) MutateWebhook(ctx context.Context, id string, fn func(cur *webhook.Webhook) (*webhook.Webhook, error)) (*webhook.Webhook, error) {
	for attempt := 0; ; attempt++ {
		if err := ctxErr(ctx); err != nil {
			return nil, err
		}
		var next *webhook.Webhook
		values := false
		err := s.db.Update(func(txn *badger.Txn) error {
			cur, err := getWebhook(txn, id)
			if err != nil && !errors.Is(err, ErrNotFound) {
				return err
			}
			if next, err = fn(cur); err != nil {
				return err
			}
			k := key(prefixWebhook, []byte(id))
			if next == nil {
				if cur == nil {
					return nil
				}
				return txn.Delete(k)
			}
			v, err := json.Marshal(next)
			if err != nil {
				return err
			}
			values = len(v) >= valueThreshold
			return txn.Set(k, v)
		})
		if errors.Is(err, badger.ErrConflict) && attempt < 10 {
			continue
		}
		if err == nil {
			if serr := s.sync(values); serr != nil {
				return nil, fmt.Errorf("store: webhook %q: %w (the change may or may not be stored): %w", id, ErrNotSynced, serr)
			}
		}
		return next, err
	}
}
