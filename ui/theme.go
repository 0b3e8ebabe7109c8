package ui

import (
	"image/color"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/theme"
)

// Colour names Soitto adds to Fyne's: the raised surface of a card and its
// hairline border.
const (
	colorNameCard       fyne.ThemeColorName = "soitto.card"
	colorNameCardBorder fyne.ThemeColorName = "soitto.cardBorder"
	// colorNameBubbleOwn is the tint of one's own chat messages.
	colorNameBubbleOwn fyne.ThemeColorName = "soitto.bubbleOwn"
)

// Theme returns Soitto's theme: Fyne's default fonts, icons and sizes with
// a blue accent matching the icon, cards raised off a tinted background,
// and softer corners. It follows the user's light or dark preference.
func Theme() fyne.Theme { return soittoTheme{} }

type soittoTheme struct{}

type palette map[fyne.ThemeColorName]color.Color

func rgb(hex uint32) color.NRGBA {
	return color.NRGBA{R: uint8(hex >> 16), G: uint8(hex >> 8), B: uint8(hex), A: 0xff}
}

func rgba(hex uint32, a uint8) color.NRGBA {
	c := rgb(hex)
	c.A = a
	return c
}

var lightPalette = palette{
	theme.ColorNameBackground:          rgb(0xf2f4f7),
	theme.ColorNameForeground:          rgb(0x1f2328),
	theme.ColorNamePlaceHolder:         rgb(0x6b7280),
	theme.ColorNamePrimary:             rgb(0x1f6fd8),
	theme.ColorNameHyperlink:           rgb(0x1f6fd8),
	theme.ColorNameForegroundOnPrimary: rgb(0xffffff),
	theme.ColorNameFocus:               rgba(0x1f6fd8, 0x50),
	theme.ColorNameSelection:           rgba(0x1f6fd8, 0x40),
	theme.ColorNameButton:              rgb(0xe9edf2),
	theme.ColorNameDisabledButton:      rgb(0xeceff3),
	theme.ColorNameDisabled:            rgb(0xa8aeb6),
	theme.ColorNameInputBackground:     rgb(0xf6f8fa),
	theme.ColorNameInputBorder:         rgb(0xd5dae1),
	theme.ColorNameHeaderBackground:    rgb(0xffffff),
	theme.ColorNameMenuBackground:      rgb(0xffffff),
	theme.ColorNameOverlayBackground:   rgb(0xffffff),
	theme.ColorNameSeparator:           rgb(0xe1e5eb),
	theme.ColorNameError:               rgb(0xcf222e),
	theme.ColorNameWarning:             rgb(0xb35900),
	theme.ColorNameSuccess:             rgb(0x1a7f37),
	colorNameCard:                      rgb(0xffffff),
	colorNameCardBorder:                rgb(0xe1e5eb),
	colorNameBubbleOwn:                 rgb(0xdcebfd),
}

var darkPalette = palette{
	theme.ColorNameBackground:          rgb(0x14171c),
	theme.ColorNameForeground:          rgb(0xe6edf3),
	theme.ColorNamePlaceHolder:         rgb(0x8b949e),
	theme.ColorNamePrimary:             rgb(0x3b8eea),
	theme.ColorNameHyperlink:           rgb(0x58a6ff),
	theme.ColorNameForegroundOnPrimary: rgb(0xffffff),
	theme.ColorNameFocus:               rgba(0x3b8eea, 0x60),
	theme.ColorNameSelection:           rgba(0x3b8eea, 0x50),
	theme.ColorNameButton:              rgb(0x2a3038),
	theme.ColorNameDisabledButton:      rgb(0x23282f),
	theme.ColorNameDisabled:            rgb(0x5c646e),
	theme.ColorNameInputBackground:     rgb(0x171b21),
	theme.ColorNameInputBorder:         rgb(0x363d47),
	theme.ColorNameHeaderBackground:    rgb(0x1d2128),
	theme.ColorNameMenuBackground:      rgb(0x1d2128),
	theme.ColorNameOverlayBackground:   rgb(0x1d2128),
	theme.ColorNameSeparator:           rgb(0x2b313a),
	theme.ColorNameError:               rgb(0xf85149),
	theme.ColorNameWarning:             rgb(0xd29922),
	theme.ColorNameSuccess:             rgb(0x3fb950),
	colorNameCard:                      rgb(0x1d2128),
	colorNameCardBorder:                rgb(0x2b313a),
	colorNameBubbleOwn:                 rgb(0x1b3656),
}

func (soittoTheme) Color(n fyne.ThemeColorName, v fyne.ThemeVariant) color.Color {
	p := lightPalette
	if v == theme.VariantDark {
		p = darkPalette
	}
	if c, ok := p[n]; ok {
		return c
	}
	return theme.DefaultTheme().Color(n, v)
}

func (soittoTheme) Font(s fyne.TextStyle) fyne.Resource { return theme.DefaultTheme().Font(s) }

func (soittoTheme) Icon(n fyne.ThemeIconName) fyne.Resource { return theme.DefaultTheme().Icon(n) }

func (soittoTheme) Size(n fyne.ThemeSizeName) float32 {
	switch n {
	case theme.SizeNameInputRadius:
		return 8
	case theme.SizeNameSelectionRadius:
		return 4
	case theme.SizeNameHeadingText:
		return 26
	}
	return theme.DefaultTheme().Size(n)
}
