// Package chat is the chat engine: it delivers text messages to buddies
// exactly once and in order, over a session's chat data channel or
// through the ring mailbox, and keeps the history sealed on disk. It is
// separate from the app so that delivery can be tested without sessions
// or a network.
//
// This comment is the spec of the chat channel and of delivery; the
// history file is specified in store.go, sealed mailbox messages in
// seal.go.
//
// # Frames
//
// Each data-channel message on a session's reliable "chat" channel is
// one frame of at most MaxFrame (65535) bytes, its first byte the kind;
// integers are big-endian:
//
//	'M' message  id (16 bytes) || seq (u64) || floor (u64) ||
//	             time (i64, Unix ms, the sender's clock) || text
//	'A' ack      id (16 bytes) × n, n from 1 to MaxAcks
//	'T' typing   0 (stopped) or 1 (typing)
//	'P' app      payload (1 to MaxApp bytes), opaque to the chat:
//	             the app's control messages (file transfers)
//
// A message's text is 1 to MaxText bytes of UTF-8 (what fits in a
// frame); its seq is from 1 to 2^63-1, and floor is at most seq. A frame
// that breaks any of this, or of another kind, is refused (Decode's
// error, one line) and changes nothing; the channel stays up.
//
// # Delivery
//
// Each message has a random 128-bit ID and a seq: the messages from one
// user to another are numbered 1, 2, … by the sender, and the numbering
// survives restarts (it is stored). A message is committed to the
// sender's history as pending before anything is sent, so it is never
// lost: it stays pending until acknowledged, across reconnects and
// restarts.
//
// Sender: while a peer's chat channel is attached, the first Window
// pending messages to the peer are on the wire: each is sent, and sent
// again after Retry, 2·Retry, … (at most MaxRetry) until an ack names
// its ID. Attaching a channel sends them again at once, in seq order,
// with the backoff reset. Each message frame carries the floor: the
// lowest seq to the peer not yet acknowledged (every seq below it is).
// An ack, or the ring saying the recipient collected the message
// (MarkDelivered), makes it delivered (Delivered event), and the window
// moves on.
//
// Receiver: a message frame is committed (or found to be a duplicate by
// its ID: stored once, however many copies come, directly or from the
// mailbox) and only then acknowledged on the channel; duplicates are
// acknowledged again, since the first ack may have been lost. Messages
// from one sender are shown (Received event, History) in seq order: one
// whose earlier seqs have not all arrived is stored as held and shown
// when the gap fills. The receiver keeps in_next, below which every seq
// is shown; a frame's floor raises it (the sender will not send those
// seqs again: they were acknowledged, so stored here, or collected from
// the mailbox or given up), which shows what was held below it and
// after it without a gap. A message whose seq is below in_next (a late
// copy of one the floor passed, or a sender whose numbering restarted
// with a new profile) is shown at once. Messages held MaxHold without
// the gap moving are shown anyway (logged), so a message the sender can
// only send directly (too large for the mailbox) does not hide later
// mailed ones for ever.
//
// Mailbox: a pending message to a peer who is offline is sealed (Seal)
// with the floor of the moment (Pending gives it) and left on the ring;
// the recipient opens it (Unseal) and stores it with ReceiveOffline,
// which dedupes and orders it like a frame (no ack: collecting the mail
// tells the sender, who calls MarkDelivered).
//
// Typing: SetTyping(peer, true) is called at keystrokes and sent at most
// every TypingRefresh; SetTyping(peer, false) when the user stops. The
// receiver shows it until "stopped", a message from the peer, the
// channel going down, or TypingTimeout without a refresh.
package chat
