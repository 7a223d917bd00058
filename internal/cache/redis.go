package cache

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// RedisTier keeps values, TTLs and tags in Redis behind every instance's
// in-process cache, and carries invalidations between instances over
// pub/sub with acknowledgements: a write returns only after every other
// instance has dropped its local copy (or the wait times out, which is
// logged), so none serves the old value afterwards.
type RedisTier struct {
	rdb      *redis.Client
	prefix   string
	instance string
	apply    func(ctx context.Context, inv Invalidation)
	log      *slog.Logger
	ackWait  time.Duration

	pubsub *redis.PubSub
	mu     sync.Mutex
	acks   map[string]chan struct{}
}

type invMessage struct {
	ID     string       `json:"id"`
	Origin string       `json:"origin"`
	Inv    Invalidation `json:"inv"`
}

// NewRedisTier connects to Redis at url and subscribes to invalidations;
// apply is called for each one another instance publishes.
func NewRedisTier(ctx context.Context, url string, apply func(context.Context, Invalidation), log *slog.Logger) (*RedisTier, error) {
	opt, err := redis.ParseURL(url)
	if err != nil {
		return nil, fmt.Errorf("redis URL: %w", err)
	}
	rdb := redis.NewClient(opt)
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := rdb.Ping(pctx).Err(); err != nil {
		rdb.Close()
		return nil, fmt.Errorf("redis: %w", err)
	}
	var id [8]byte
	_, _ = rand.Read(id[:])
	t := &RedisTier{rdb: rdb, prefix: "painel:cache:", instance: hex.EncodeToString(id[:]), apply: apply, log: log,
		ackWait: 2 * time.Second, acks: map[string]chan struct{}{}}
	t.pubsub = rdb.Subscribe(ctx, t.prefix+"inval", t.prefix+"ack:"+t.instance)
	if _, err := t.pubsub.Receive(pctx); err != nil { // wait for the subscription
		rdb.Close()
		return nil, fmt.Errorf("redis subscribe: %w", err)
	}
	return t, nil
}

// Run handles invalidations and acknowledgements until ctx ends.
func (t *RedisTier) Run(ctx context.Context) error {
	ch := t.pubsub.Channel()
	for {
		select {
		case <-ctx.Done():
			return nil
		case msg, ok := <-ch:
			if !ok {
				return errors.New("redis: subscription closed")
			}
			t.handle(ctx, msg)
		}
	}
}

func (t *RedisTier) handle(ctx context.Context, msg *redis.Message) {
	if strings.HasPrefix(msg.Channel, t.prefix+"ack:") {
		t.mu.Lock()
		if c := t.acks[msg.Payload]; c != nil {
			select {
			case c <- struct{}{}:
			default:
			}
		}
		t.mu.Unlock()
		return
	}
	var m invMessage
	if err := json.Unmarshal([]byte(msg.Payload), &m); err != nil || m.Origin == t.instance {
		return
	}
	t.apply(ctx, m.Inv)
	if err := t.rdb.Publish(ctx, t.prefix+"ack:"+m.Origin, m.ID).Err(); err != nil {
		t.log.Warn("cache: acknowledge invalidation", "error", err)
	}
}

// Close unsubscribes and disconnects.
func (t *RedisTier) Close() error {
	_ = t.pubsub.Close()
	return t.rdb.Close()
}

// Invalidate publishes inv and waits until every other subscribed
// instance has applied it.
func (t *RedisTier) Invalidate(ctx context.Context, inv Invalidation) error {
	var id [8]byte
	_, _ = rand.Read(id[:])
	m := invMessage{ID: hex.EncodeToString(id[:]), Origin: t.instance, Inv: inv}
	b, _ := json.Marshal(m)
	c := make(chan struct{}, 64)
	t.mu.Lock()
	t.acks[m.ID] = c
	t.mu.Unlock()
	defer func() {
		t.mu.Lock()
		delete(t.acks, m.ID)
		t.mu.Unlock()
	}()
	n, err := t.rdb.Publish(ctx, t.prefix+"inval", b).Result()
	if err != nil {
		return err
	}
	want := int(n) - 1 // every subscriber but ourselves
	timeout := time.NewTimer(t.ackWait)
	defer timeout.Stop()
	for got := 0; got < want; got++ {
		select {
		case <-c:
		case <-timeout.C:
			return fmt.Errorf("%d of %d instances acknowledged", got, want)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

func (t *RedisTier) valueKey(area, key string) string { return t.prefix + area + ":v:" + key }
func (t *RedisTier) tagKey(area, tag string) string   { return t.prefix + area + ":t:" + tag }

// Get reads a value.
func (t *RedisTier) Get(ctx context.Context, area, key string) (*Value, bool, error) {
	h, err := t.rdb.HGetAll(ctx, t.valueKey(area, key)).Result()
	if err != nil {
		return nil, false, err
	}
	if len(h) == 0 {
		return nil, false, nil
	}
	v := &Value{Key: key, Data: []byte(h["d"]), ContentType: h["t"]}
	if g := h["g"]; g != "" {
		v.Tags = strings.Split(g, "\x1f")
	}
	if e, _ := strconv.ParseInt(h["e"], 10, 64); e > 0 {
		v.ExpiresAt = time.UnixMilli(e)
		if !time.Now().Before(v.ExpiresAt) {
			return nil, false, nil
		}
	}
	return v, true, nil
}

// Set writes a value with its TTL and tags.
func (t *RedisTier) Set(ctx context.Context, area string, v *Value) error {
	k := t.valueKey(area, v.Key)
	var exp int64
	if !v.ExpiresAt.IsZero() {
		exp = v.ExpiresAt.UnixMilli()
	}
	_, err := t.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Del(ctx, k)
		p.HSet(ctx, k, "d", v.Data, "t", v.ContentType, "g", strings.Join(v.Tags, "\x1f"), "e", exp)
		if exp > 0 {
			p.PExpireAt(ctx, k, v.ExpiresAt)
		}
		for _, tag := range v.Tags {
			p.SAdd(ctx, t.tagKey(area, tag), v.Key)
		}
		return nil
	})
	return err
}

// Delete removes a value.
func (t *RedisTier) Delete(ctx context.Context, area, key string) error {
	return t.rdb.Del(ctx, t.valueKey(area, key)).Err()
}

// DeleteTag removes the values tagged tag.
func (t *RedisTier) DeleteTag(ctx context.Context, area, tag string) error {
	tk := t.tagKey(area, tag)
	keys, err := t.rdb.SMembers(ctx, tk).Result()
	if err != nil {
		return err
	}
	// A key re-set since without the tag stays.
	tags := make([]*redis.StringCmd, len(keys))
	if _, err := t.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, k := range keys {
			tags[i] = p.HGet(ctx, t.valueKey(area, k), "g")
		}
		return nil
	}); err != nil && !errors.Is(err, redis.Nil) {
		return err
	}
	_, err = t.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		for i, k := range keys {
			if hasTag(strings.Split(tags[i].Val(), "\x1f"), tag) {
				p.Del(ctx, t.valueKey(area, k))
			}
		}
		p.Del(ctx, tk)
		return nil
	})
	return err
}

// Clear removes every value and tag of an area.
func (t *RedisTier) Clear(ctx context.Context, area string) error {
	iter := t.rdb.Scan(ctx, 0, t.prefix+area+":*", 512).Iterator()
	var batch []string
	for iter.Next(ctx) {
		batch = append(batch, iter.Val())
		if len(batch) == 512 {
			if err := t.rdb.Unlink(ctx, batch...).Err(); err != nil {
				return err
			}
			batch = batch[:0]
		}
	}
	if err := iter.Err(); err != nil {
		return err
	}
	if len(batch) > 0 {
		return t.rdb.Unlink(ctx, batch...).Err()
	}
	return nil
}

// Ping checks that Redis answers.
func (t *RedisTier) Ping(ctx context.Context) error { return t.rdb.Ping(ctx).Err() }
