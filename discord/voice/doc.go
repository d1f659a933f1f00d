// Package voice is Marquee's own Discord voice client: it connects to a voice
// server, negotiates transport encryption and sends a party's Opus audio,
// paced at 20 ms, without re-encoding.
//
// It follows Discord's "Voice Connections" documentation
// (https://discord.com/developers/docs/topics/voice-connections):
//   - "Voice Gateway Versioning": gateway version 8 (?v=8), whose server
//     messages carry a sequence number that the client echoes as seq_ack in
//     heartbeats and resumes ("Heartbeating", "Buffered Resume");
//   - "Binary Websocket Messages": DAVE opcodes arrive as binary frames
//     (uint16 sequence, uint8 opcode, payload); this client declares
//     max_dave_protocol_version 0, tracks their sequence numbers and
//     otherwise ignores them;
//   - "IP Discovery": the 74-byte request/response on the UDP socket;
//   - "Transport Encryption Modes": aead_aes256_gcm_rtpsize (preferred) and
//     aead_xchacha20_poly1305_rtpsize (always offered), with a 32-bit
//     incrementing nonce appended to each packet and the RTP header as
//     additional data (RFC 3711 §3.1 style "RTP size" header);
//   - "Speaking": opcode 5 before any audio;
//   - "Voice Data Interpolation": five silence frames (F8 FF FE) before a
//     break in transmission;
//   - "Resuming Voice Connection" and the close codes of "Opcodes and Status
//     Codes: Voice Close Event Codes": 4015 resumes; 4006 (session no longer
//     valid, so resuming is impossible) identifies again from the start;
//     4014, 4017 (E2EE/DAVE required), 4004, 4016, 4021, 4022 are final.
//
// DAVE (end-to-end encryption, required on ordinary voice channels since
// March 2026) is not implemented: a voice server that demands it closes the
// connection with 4017 and Run returns a *CloseError carrying that code, so
// the caller can tell people to use a Stage channel.
package voice
