package node

import (
	"math/big"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"soitto/overlay"
	"soitto/overlay/ring"
)

type metrics struct {
	reg      *prometheus.Registry
	requests prometheus.Counter
	lookups  *prometheus.CounterVec
	hops     prometheus.Histogram

	searches, redirects, relayed, delivered prometheus.Counter
}

func newMetrics(n *Node) *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "soitto_node_requests_total", Help: "Requests this node answered.",
		}),
		lookups: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "soitto_node_lookups_total", Help: "Lookups this node ran, by result (ok, error).",
		}, []string{"result"}),
		searches: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "soitto_node_searches_total", Help: "Searches this node answered.",
		}),
		redirects: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "soitto_node_redirects_total", Help: "Clients refused at capacity and redirected.",
		}),
		relayed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "soitto_node_relayed_total", Help: "Signals forwarded to another super-peer.",
		}),
		delivered: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "soitto_node_delivered_total", Help: "Signals delivered to an attached client.",
		}),
		hops: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "soitto_node_lookup_hops", Help: "Sequential rounds of this node's lookups.",
			Buckets: []float64{0, 1, 2, 3, 4, 5, 6, 8, 10, 12, 16},
		}),
	}
	gauge := func(name, help string, f func() float64) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, f)
	}
	counter := func(name, help string, f func() float64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help}, f)
	}
	m.reg.MustRegister(m.requests, m.lookups, m.hops, m.searches, m.redirects, m.relayed, m.delivered,
		gauge("soitto_node_clients", "Client endpoints attached.",
			func() float64 { return float64(n.clients.len()) }),
		gauge("soitto_node_ring_size_estimate", "Nodes in the ring, estimated from how much of the circle the successor list spans.",
			func() float64 { return estimateSize(n.self.ID, n.ring.Successors()) }),
		gauge("soitto_node_successors", "Entries in the successor list.",
			func() float64 { return float64(len(n.ring.Successors())) }),
		gauge("soitto_node_fingers", "Distinct live fingers.",
			func() float64 { return float64(len(n.ring.Fingers())) }),
		gauge("soitto_node_has_predecessor", "1 when the node knows its predecessor.",
			func() float64 {
				if n.ring.Predecessor().IsZero() {
					return 0
				}
				return 1
			}),
		gauge("soitto_node_records", "Directory records stored here (primary and replicas).",
			func() float64 { return float64(n.dir.Len()) }),
		counter("soitto_node_messages_in_total", "Overlay messages received.",
			func() float64 { return float64(n.net.Stats().MessagesIn) }),
		counter("soitto_node_messages_out_total", "Overlay messages sent.",
			func() float64 { return float64(n.net.Stats().MessagesOut) }),
	)
	return m
}

func (m *metrics) lookup(res ring.Result, err error) {
	if err != nil {
		m.lookups.WithLabelValues("error").Inc()
		return
	}
	m.lookups.WithLabelValues("ok").Inc()
	m.hops.Observe(float64(res.Hops))
}

// MetricsHandler serves the node's Prometheus metrics.
func (n *Node) MetricsHandler() http.Handler {
	return promhttp.HandlerFor(n.m.reg, promhttp.HandlerOpts{})
}

// estimateSize: the successor list of r nodes spans about r/N of the
// circle, so N ≈ r · 2^160 / span.
func estimateSize(self overlay.ID, succs []overlay.Node) float64 {
	for i, s := range succs {
		if s.ID == self { // the list wrapped round: the ring is this small
			return float64(i + 1)
		}
	}
	if len(succs) == 0 {
		return 1
	}
	last := succs[len(succs)-1]
	span := overlay.Distance(self, last.ID)
	if span.Sign() == 0 {
		return 1
	}
	circle := new(big.Float).SetInt(new(big.Int).Lsh(big.NewInt(1), 8*overlay.IDBytes))
	f, _ := new(big.Float).Quo(circle, new(big.Float).SetInt(span)).Float64()
	return f * float64(len(succs))
}
