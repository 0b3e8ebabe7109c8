package app

// TraceSignals has f see every signal c receives (set before c goes
// online).
func TraceSignals(c *Client, f func(from, kind string, payload []byte)) { c.traceSignal = f }
