package audio

// Opus settings for voice.
const (
	// DefaultBitrate is the encoder's bitrate: wideband speech at
	// 20 ms is transparent well below it, and in-band FEC takes a share
	// when loss is reported.
	DefaultBitrate = 32000
	// MaxPacket bounds an encoded frame (RFC 6716 allows 1275 bytes per
	// frame; a 20 ms voice frame at 32 kb/s is about 80).
	MaxPacket = 1275
	// encoderComplexity trades CPU for quality (0-10). For speech at
	// this bitrate libopus 1.3 makes byte-identical packets at 8, 9
	// and 10 (BenchmarkOpusComplexity), about 0.45 ms a frame here; 6
	// and below change the coding mode and halve the cost, which wants
	// a listening test before it is taken.
	encoderComplexity = 9
)

// Encoder is an Opus encoder for one direction of a call.
type Encoder interface {
	// Encode compresses one frame into packet and returns its size.
	Encode(frame []int16, packet []byte) (int, error)
	// SetLoss tells the encoder the receiver's packet loss, in percent,
	// so that in-band FEC covers it.
	SetLoss(percent int) error
	// SetBitrate sets the bitrate in bits per second.
	SetBitrate(bps int) error
}

// Decoder is an Opus decoder for one direction of a call.
type Decoder interface {
	// Decode expands packet into frame (FrameSamples samples).
	Decode(packet []byte, frame []int16) error
	// DecodeFEC recovers the frame before packet from the redundancy
	// packet carries, for a single lost packet.
	DecodeFEC(packet []byte, frame []int16) error
	// Conceal makes up a frame for a lost packet (packet loss
	// concealment).
	Conceal(frame []int16) error
}
