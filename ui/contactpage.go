package ui

import (
	"context"
	"fmt"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"soitto/app"
	"soitto/overlay/presence"
)

// contactPage is the dialog of one user in the buddy list: their state,
// the safety number to compare with them, and block, remove and accept
// a new key.
type contactPage struct {
	d      *dialog.CustomDialog
	name   string
	safety *widget.Label
	block  *widget.Button
	newKey *widget.Button
}

// showContact opens name's page.
func (h *homeScreen) showContact(name string) {
	c, ok := h.contact(name)
	if !ok {
		return
	}
	p := &contactPage{name: name}
	av := newAvatar(64)
	av.SetName(name)
	title := widget.NewLabelWithStyle(name, fyne.TextAlignCenter, fyne.TextStyle{Bold: true})
	title.SizeName = theme.SizeNameSubHeadingText
	state := newMuted(stateText(c), theme.SizeNameText, fyne.TextAlignCenter)
	state.Wrapping = fyne.TextWrapWord
	p.safety = widget.NewLabelWithStyle("…", fyne.TextAlignCenter, fyne.TextStyle{Monospace: true})
	p.safety.Wrapping = fyne.TextWrapWord
	explain := newMuted("Compare this number with "+name+" in person or on a call: if it is the same on both sides, nobody is in the middle.",
		theme.SizeNameCaptionText, fyne.TextAlignCenter)
	explain.Wrapping = fyne.TextWrapWord
	remove := widget.NewButtonWithIcon("Remove", theme.ContentRemoveIcon(), func() {
		p.d.Hide()
		h.confirmRemove(name)
	})
	if c.State == app.StateBlocked {
		p.block = widget.NewButton("Unblock", func() { p.d.Hide(); h.contactAction("remove", name) })
	} else {
		p.block = widget.NewButtonWithIcon("Block", theme.ErrorIcon(), func() { p.d.Hide(); h.confirmBlock(name) })
		p.block.Importance = widget.DangerImportance
	}
	p.newKey = widget.NewButtonWithIcon("Accept the new key", theme.ConfirmIcon(), func() {
		p.d.Hide()
		h.contactAction("accept-key", name)
	})
	p.newKey.Importance = widget.WarningImportance
	if !c.KeyChanged {
		p.newKey.Hide()
	}
	message := widget.NewButtonWithIcon("Message", iconChat, func() { p.d.Hide(); h.u.openChat(name) })
	message.Importance = widget.HighImportance
	call := widget.NewButtonWithIcon("Call", iconPhone, func() { p.d.Hide(); h.u.startCall(name) })
	if c.Status == presence.Offline {
		call.Disable()
	}
	actions := container.NewGridWithColumns(2, message, call)
	if c.State != app.StateContact {
		actions.Hide()
	}
	content := container.NewVBox(container.NewCenter(av), title, state, actions, widget.NewSeparator(),
		widget.NewLabelWithStyle("Safety number", fyne.TextAlignCenter, fyne.TextStyle{Bold: true}),
		p.safety, explain, p.newKey, container.NewGridWithColumns(2, remove, p.block))
	p.d = dialog.NewCustom(name, "Close", content, h.u.win)
	p.d.Resize(fyne.NewSize(min(h.u.win.Canvas().Size().Width-32, 380), 0))
	p.d.Show()
	h.u.async(func(context.Context) {
		n, err := h.u.client.SafetyNumber(name)
		h.u.post(func() {
			if err != nil {
				p.safety.SetText("not yet: " + firstLine(err.Error()))
				return
			}
			p.safety.SetText(n)
		})
	})
}

// stateText says where a user stands, for their page.
func stateText(c app.Contact) string {
	switch c.State {
	case app.StatePending:
		if c.Message != "" {
			return fmt.Sprintf("Wants to be your contact: “%s”", c.Message)
		}
		return "Wants to be your contact"
	case app.StateRequested:
		return "Your request is waiting for " + c.Name
	case app.StateBlocked:
		return "Blocked: nothing from " + c.Name + " reaches you, and they are not told"
	}
	if c.KeyChanged {
		return "Contact · their key changed: compare the safety number before you accept it"
	}
	return "Contact · " + statusLabel(c.Status)
}

func (h *homeScreen) confirmBlock(name string) {
	dialog.ShowConfirm("Block "+name, fmt.Sprintf("Block %s? Their calls, messages and requests will be dropped without telling them.", name),
		func(ok bool) {
			if ok {
				h.contactAction("block", name)
			}
		}, h.u.win)
}
