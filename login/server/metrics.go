package server

import (
	"github.com/prometheus/client_golang/prometheus"
	"soitto/login/password"
)

type metrics struct {
	registrations *prometheus.CounterVec // by result code
	logins        *prometheus.CounterVec // by result: ok, failed, and refusal codes
	latency       *prometheus.HistogramVec
}

func newMetrics(reg prometheus.Registerer, h *password.Hasher) *metrics {
	m := &metrics{
		registrations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "soitto_login_registrations_total",
			Help: "Registration attempts by result (ok or the refusal code).",
		}, []string{"result"}),
		logins: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "soitto_login_logins_total",
			Help: "Login attempts by result: ok, failed (wrong credentials), or the refusal code.",
		}, []string{"result"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "soitto_login_request_duration_seconds",
			Help:    "Time to answer an API request, by endpoint.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"endpoint"}),
	}
	reg.MustRegister(m.registrations, m.logins, m.latency,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "soitto_login_hash_queue_depth",
			Help: "Password hashes waiting for a CPU slot.",
		}, func() float64 { return float64(h.QueueDepth()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "soitto_login_hash_running",
			Help: "Password hashes running now.",
		}, func() float64 { return float64(h.Running()) }),
	)
	return m
}
