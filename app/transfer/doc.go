// Package transfer sends files between two users over WebRTC data
// channels, one channel per transfer, and resumes a transfer broken by a
// disconnect or a restart of either program from the last verified
// chunk. It keeps a file's bytes on disk, never in memory: a sender holds
// one frame, a receiver one chunk at most.
//
// # Control messages
//
// Offers and answers travel on a reliable channel the caller already has
// with the peer (Peer.SendControl in, Manager.HandleControl out). Each is
// one JSON object of at most MaxControl (16 KiB) bytes that starts with
// `{"file":` (IsControl), with no unknown fields:
//
//	{"file":"offer","id":ID,"name":"a.jpg","size":N,"sha256":HEX,"chunk":C,"root":HEX}
//	{"file":"accept","id":ID}
//	{"file":"decline","id":ID[,"reason":"…"]}
//	{"file":"cancel","id":ID[,"reason":"…"]}
//	{"file":"resume","id":ID}
//	{"file":"done","id":ID}
//
// ID is 16 random bytes in lowercase hex, chosen by the sender. name is a
// plain file name (no separators or control characters, at most 255
// bytes). sha256 is the whole file's; the file is cut in chunks of chunk
// bytes (64 KiB..16 MiB; the last may be shorter; an empty file is one
// empty chunk; at most 2^20 chunks), and root is the SHA-256 of the
// chunks' SHA-256 hashes, concatenated. A reason is one line of at most
// 200 bytes.
//
// # Flow
//
// Offer: the sender hashes the file, keeps StateDir/out-ID.json (and the
// hash list in out-ID.hashes) and sends offer. The receiver shows it
// (Offered) and writes nothing until it accepts; decline ends it on both
// sides.
//
// Accept: the receiver creates the hidden part file
// ".NAME.ID8.soitto-part" in the destination folder and
// StateDir/in-ID.json, sends accept, and opens a data channel labelled
// "file:ID". The sender serves any such channel from the user it offered
// to (and takes the channel as an accept if the accept was lost).
//
// Data channel: reliable and ordered; binary frames of at most MaxFrame
// (64 KiB, what pion and browsers accept without max-message-size), big
// endian:
//
//	'L' from u32 count u32   receiver: send hashes of chunks [from, from+count)
//	'H' from u32 hash…       sender: 32-byte chunk hashes from chunk from
//	'R' from u32 to u32      receiver: send chunks [from, to)
//	'D' chunk u32 off u32 …  sender: bytes of chunk at offset off
//	'A' n u64                receiver: n bytes verified so far (progress)
//
// The receiver first fetches the hash list (unless it has it from before
// a restart) and checks it against root; then it asks for every chunk it
// has not verified, one 'R' per missing run (one 'R' to the end past 1024
// runs). The sender serves the newest request first (a re-fetch goes
// ahead of a long run), a chunk's frames in order. The receiver writes
// each frame in place, hashes the chunk, and on a mismatch asks for that
// chunk again ('R' i i+1), up to 3 times, then fails. It also feeds the
// whole-file SHA-256 as chunks verify in order (reading back from the
// part file the ones that verified out of order), so the end needs no
// second pass. When all chunks verified and the whole matches sha256, it
// renames the part file to the name offered, or "NAME (1).EXT", "NAME
// (2).EXT" … (link(2), so an existing file is never replaced), removes
// its state, sends done, and closes the channel; the sender then removes
// its state. Either side may send cancel at any time; both remove the
// part file and the state. A failure (a bad hash list, a whole-file
// mismatch, a frame out of order, the sender's file changed) is sent as
// cancel with the reason.
//
// Flow control (pion's data-channels flow-control example): the sender
// stops while the channel buffers more than Config.HighWater bytes and
// goes on when OnBufferedAmountLow reports Config.LowWater. The receiver
// handles frames on the channel's read goroutine, disk writes included,
// so a slow disk slows the sender through SCTP's receive window.
//
// # Resume
//
// The receiver's state file holds the offer, the destination folder, a
// bitmap of verified chunks and the whole-file hash's state; it is
// rewritten (temp file + rename, after syncing the part file) at most
// every Config.SaveEvery while data flows, and on every pause and Close.
// The sender's holds the offer, the path and the file's modification
// time (a changed file fails the transfer rather than sending different
// bytes).
//
// After a disconnect or a restart, the caller calls Reconnected with the
// new session on both sides. The receiver drives: it sends accept again
// and opens a new channel, then asks for what is missing. The sender
// sends offer again for what was not answered, and resume for what was
// accepted (which makes a receiver that has not noticed the new session
// start the same way). A receiver that does not know the ID answers
// resume with cancel "unknown transfer".
//
// Every decoder here (control messages, frames, state files) has a size
// limit and a fuzz target, and every refusal is one line saying why.
package transfer
