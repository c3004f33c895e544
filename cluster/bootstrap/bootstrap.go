// Package bootstrap starts a node's place in the cluster: remote (gRPC) with
// recovery interceptors, the identity lookup, the membership provider and the
// cluster kinds. It owns the *cluster.Cluster it returns until Stop.
//
// It receives the kinds to host and a provider (localprovider without Redis)
// and emits nothing. Start fails when the cluster address cannot be parsed or
// bound; protoactor panics in those cases and Start turns the panic into an
// error so the node exits with a clear message instead of a stack trace.
package bootstrap

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/asynkron/protoactor-go/cluster"
	"github.com/asynkron/protoactor-go/cluster/identitylookup/disthash"
	"github.com/asynkron/protoactor-go/remote"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Options configures Start.
type Options struct {
	// Name is the cluster's name; nodes of one bot share it.
	Name string
	// ListenAddr is host:port to bind (port 0 picks one).
	ListenAddr string
	// AdvertiseAddr is host:port other nodes dial; empty = ListenAddr, with
	// the bound port when ListenAddr's port is 0.
	AdvertiseAddr string
	Provider      cluster.ClusterProvider
	Kinds         []*cluster.Kind
	// RequestTimeout bounds every grain request. Default: 5s.
	RequestTimeout time.Duration
}

// Start joins the cluster. The actor system must be fresh.
func Start(sys *actor.ActorSystem, o Options) (c *cluster.Cluster, err error) {
	host, port, err := splitHostPort(o.ListenAddr)
	if err != nil {
		return nil, fmt.Errorf("parsing cluster address %q: %w", o.ListenAddr, err)
	}
	if port == 0 {
		// protoactor advertises host:0 when asked to bind port 0, so pick a
		// free port first; the short race with another process is harmless
		// next to an unroutable address.
		port, err = freePort(host)
		if err != nil {
			return nil, err
		}
	}
	advertise := o.AdvertiseAddr
	if advertise == "" {
		advertise = net.JoinHostPort(host, strconv.Itoa(port))
	} else if ah, ap, err := splitHostPort(advertise); err != nil {
		return nil, fmt.Errorf("parsing cluster advertise address %q: %w", advertise, err)
	} else if ap == 0 {
		advertise = net.JoinHostPort(ah, strconv.Itoa(port))
	}
	advertise = resolveAdvertise(advertise)
	timeout := o.RequestTimeout
	if timeout <= 0 {
		timeout = 5 * time.Second
	}
	rcfg := remote.Configure(host, port,
		remote.WithAdvertisedHost(advertise),
		remote.WithServerOptions(
			grpc.ChainUnaryInterceptor(recoverUnary),
			grpc.ChainStreamInterceptor(recoverStream),
		))
	ccfg := cluster.Configure(o.Name, o.Provider, disthash.New(), rcfg,
		cluster.WithKinds(o.Kinds...),
		cluster.WithRequestTimeout(timeout),
	)
	c = cluster.New(sys, ccfg)
	defer func() {
		if r := recover(); r != nil {
			if e, ok := r.(error); ok {
				err = fmt.Errorf("starting cluster member on %s: %w", o.ListenAddr, e)
				return
			}
			err = fmt.Errorf("starting cluster member on %s: %v", o.ListenAddr, r)
		}
	}()
	c.StartMember()
	return c, nil
}

// Stop leaves the cluster; graceful deregisters from the provider first.
// protoactor's shutdown sleeps and waits on peers, so it runs bounded by ctx.
func Stop(ctx context.Context, c *cluster.Cluster, graceful bool, log *slog.Logger) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer func() {
			if r := recover(); r != nil {
				log.Warn("cluster shutdown panicked", slog.Any("err", r))
			}
		}()
		c.Shutdown(graceful)
	}()
	select {
	case <-done:
	case <-ctx.Done():
		log.Warn("cluster shutdown did not finish in time")
	}
}

func splitHostPort(addr string) (string, int, error) {
	h, p, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, err
	}
	port, err := strconv.Atoi(p)
	if err != nil || port < 0 || port > 65535 {
		return "", 0, fmt.Errorf("bad port %q", p)
	}
	return h, port, nil
}

func freePort(host string) (int, error) {
	l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return 0, fmt.Errorf("finding a free cluster port on %s: %w", host, err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// The remote port must not be crashable from outside: protoactor panics on
// unknown message types and unimplemented diagnostics calls.
func recoverUnary(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (resp any, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = status.Errorf(codes.Unimplemented, "%s: %v", info.FullMethod, r)
		}
	}()
	return h(ctx, req)
}

func recoverStream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, h grpc.StreamHandler) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = status.Errorf(codes.Internal, "%s: %v", info.FullMethod, r)
		}
	}()
	return h(srv, ss)
}

// resolveAdvertise turns a host name in the advertised address into the
// address it resolves to here (in a container: its own address on the
// cluster network), so every member dials the same IP and no member depends
// on the others' resolvers. A name that does not resolve is kept.
func resolveAdvertise(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil || net.ParseIP(host) != nil {
		return addr
	}
	ips, err := net.LookupIP(host)
	if err != nil || len(ips) == 0 {
		return addr
	}
	// Prefer an address peers can reach (not loopback), then IPv4.
	score := func(ip net.IP) int {
		n := 0
		if !ip.IsLoopback() {
			n += 2
		}
		if ip.To4() != nil {
			n++
		}
		return n
	}
	best := ips[0]
	for _, ip := range ips[1:] {
		if score(ip) > score(best) {
			best = ip
		}
	}
	return net.JoinHostPort(best.String(), port)
}
