package kindfarm

import (
	"crypto/tls"
	"net"
	"sync"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// serveGRPC serves the health service on a new loopback port, over TLS if
// config is not nil: the server overall ("") and GRPCServing are SERVING,
// GRPCNotServing is NOT_SERVING, any other service is unknown. It returns
// the address and the func that stops the server and waits for it.
func serveGRPC(config *tls.Config) (string, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	var opts []grpc.ServerOption
	if config != nil {
		opts = append(opts, grpc.Creds(credentials.NewTLS(config)))
	}
	srv := grpc.NewServer(opts...)
	h := health.NewServer()
	h.SetServingStatus("", healthpb.HealthCheckResponse_SERVING)
	h.SetServingStatus(GRPCServing, healthpb.HealthCheckResponse_SERVING)
	h.SetServingStatus(GRPCNotServing, healthpb.HealthCheckResponse_NOT_SERVING)
	healthpb.RegisterHealthServer(srv, h)
	var wg sync.WaitGroup
	wg.Go(func() { _ = srv.Serve(ln) })
	return ln.Addr().String(), func() {
		srv.Stop()
		wg.Wait()
	}, nil
}
