package chat

import "errors"

var (
	// ErrBadFrame is wrapped by every error about a chat-channel frame
	// that does not decode (wrong kind, length, bounds, UTF-8).
	ErrBadFrame = errors.New("chat: bad frame")
	// ErrTooLarge is wrapped by errors about a text, frame or app payload
	// over its limit (MaxText, MaxFrame).
	ErrTooLarge = errors.New("chat: too large")
	// ErrEmpty is returned by Send for an empty text.
	ErrEmpty = errors.New("chat: empty message")
	// ErrBadPeer is returned for a peer name that is empty, longer than
	// MaxPeer bytes or not UTF-8.
	ErrBadPeer = errors.New("chat: bad peer name")
	// ErrNoLink is returned by SendApp when no chat channel is attached
	// for the peer.
	ErrNoLink = errors.New("chat: no chat channel with the peer")
	// ErrClosed is returned once the engine is closed.
	ErrClosed = errors.New("chat: engine closed")
	// ErrWrongKey is returned by Open when the key does not open the
	// history (it was made with another identity key).
	ErrWrongKey = errors.New("chat: the key does not open this chat history")
	// ErrCorrupt is wrapped by errors about a history row that does not
	// decrypt or decode: the file was changed outside Soitto.
	ErrCorrupt = errors.New("chat: chat history damaged")

	// ErrTooLargeForMailbox is returned by Seal when the sealed message
	// would be over MaxSealed: it has to wait for a direct session.
	ErrTooLargeForMailbox = errors.New("chat: message too large for the mailbox")
	// ErrBadEnvelope is wrapped by every error of Unseal about a sealed
	// message that is malformed, tampered with, not sealed to this key,
	// addressed to someone else, or not signed by a user of the network.
	ErrBadEnvelope = errors.New("chat: bad sealed message")
)
