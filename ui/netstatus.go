package ui

import (
	"fmt"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"soitto/app"
)

// netStatus is the status area at the foot of the home screen: the NAT
// the client is behind and whether calls can fall back to a relay, as
// app.Client.Net found them. The account dialog shows the details.
type netStatus struct {
	root    *fyne.Container
	icon    *widget.Icon
	summary *widget.RichText

	// In the account dialog.
	natType, mapped, relay *widget.Label
	// superPeer: the user's consent to promotion, off by default.
	superPeer *widget.Check
}

func newNetStatus() *netStatus {
	n := &netStatus{
		icon:    widget.NewIcon(theme.NewColoredResource(theme.InfoIcon(), theme.ColorNamePlaceHolder)),
		summary: newMuted("Checking the network…", theme.SizeNameCaptionText, fyne.TextAlignLeading),
		natType: widget.NewLabel("not checked yet"),
		mapped:  widget.NewLabel("—"),
		relay:   widget.NewLabel("—"),
	}
	n.summary.Truncation = fyne.TextTruncateEllipsis
	n.natType.Wrapping = fyne.TextWrapWord
	n.mapped.Selectable = true
	n.relay.Wrapping = fyne.TextWrapWord
	size := theme.IconInlineSize()
	n.root = container.NewBorder(nil, nil,
		container.NewCenter(container.NewGridWrap(fyne.NewSquareSize(size), n.icon)), nil,
		container.New(layout.NewCustomPaddedLayout(0, 0, 0, 0), n.summary))
	return n
}

// reset shows that nothing is known yet.
func (n *netStatus) reset() {
	n.icon.SetResource(theme.NewColoredResource(theme.InfoIcon(), theme.ColorNamePlaceHolder))
	setRichText(n.summary, "Checking the network…")
	n.natType.SetText("not checked yet")
	n.mapped.SetText("—")
	n.relay.SetText("—")
}

// set shows r.
func (n *netStatus) set(r app.NetReport) {
	nat, good := natSummary(r)
	var relay string
	switch {
	case r.Relay:
		relay = "relay ready"
	case len(r.TURN) == 0:
		relay = "no relay offered"
	default:
		relay = "relay unavailable"
	}
	icon, color := theme.ConfirmIcon(), theme.ColorNameSuccess
	if !good || !r.Relay {
		icon, color = theme.WarningIcon(), theme.ColorNameWarning
	}
	if !good && !r.Relay {
		icon, color = theme.ErrorIcon(), theme.ColorNameError
	}
	n.icon.SetResource(theme.NewColoredResource(icon, color))
	setRichText(n.summary, nat+" · "+relay)

	n.natType.SetText(natDetail(r))
	if r.NAT.Mapped.IsValid() {
		n.mapped.SetText(r.NAT.Mapped.String())
	} else {
		n.mapped.SetText("—")
	}
	switch {
	case r.Relay:
		n.relay.SetText("available, relayed address " + r.Relayed)
	case r.RelayError != "":
		n.relay.SetText("unavailable: " + firstLine(r.RelayError))
	default:
		n.relay.SetText("unavailable")
	}
}

// natSummary says in a few words what the NAT means for calls, and
// whether direct calls are likely.
func natSummary(r app.NetReport) (string, bool) {
	if r.NATError != "" && !r.NAT.UDPBlocked {
		return "NAT unknown", false
	}
	switch t := r.NAT.Type(); t {
	case "open":
		return "Public address", true
	case "UDP blocked":
		return "UDP blocked: calls go through a relay", false
	case "symmetric":
		return "Symmetric NAT: some calls need a relay", false
	case "unknown":
		return "NAT unknown", false
	default:
		return upperFirst(t) + " NAT", true
	}
}

func natDetail(r app.NetReport) string {
	if r.NATError != "" && !r.NAT.UDPBlocked {
		return "unknown: " + firstLine(r.NATError)
	}
	return fmt.Sprintf("%s (mapping %s, filtering %s)", r.NAT.Type(), r.NAT.Mapping, r.NAT.Filtering)
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
