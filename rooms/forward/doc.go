// Package forward is the SFU's media plane: it forwards a published
// track's RTP to many subscribers without transcoding. It imports nothing
// of Marquee's (the role of Galene's rtpconn or LiveKit's pkg/sfu); rooms
// wires it to signalling.
//
// A Receiver reads one published track, all of its simulcast layers (RID
// "q", "h", "f", or "" for one layer), each in a goroutine it owns, parses
// each packet once, keeps it in a per-layer cache for NACKs, and hands it to
// every DownTrack without blocking.
//
// A DownTrack is one subscriber's copy of the track and a webrtc.TrackLocal.
// Its bounded queue is drained in writer turns that a WriterPool's few
// workers take (one pool per SFU), so the slowest viewer never stalls the
// others: on overflow, video is dropped until the next key frame and the
// drops are counted, and a write that blocks outright makes the pool start
// another worker. The writer picks the simulcast
// layer from the subscriber's cap (SetMaxQuality, SetMaxDimensions) and its
// bandwidth estimate (transport-wide CC feedback through this package's
// lean estimator or pion's GCC, else REMB, else receiver-report loss),
// switches only at a key frame of the target layer (asking the publisher
// for one), and rewrites sequence numbers, RTP timestamps and the VP8
// PictureID/TL0PICIDX (RFC 7741 §4.2) so each subscriber sees one
// continuous stream. It answers NACKs (RFC 4585 §6.2.1) from the layer
// caches, forwards PLI/FIR upstream (throttled per layer), and sends RTCP
// sender reports (RFC 3550 §6.4.1). Opus and other audio pass through
// unchanged, DTX gaps included.
//
// # Wiring (what rooms does)
//
// Once per process, build the API with this package's interceptors:
//
//	m := &webrtc.MediaEngine{}
//	_ = m.RegisterDefaultCodecs()
//	ir := &interceptor.Registry{}
//	ccl, err := forward.RegisterInterceptors(m, ir, forward.CongestionParams{})
//	api := webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithInterceptorRegistry(ir), ...)
//	sendIR := &interceptor.Registry{} // connections that only send media
//	_ = ccl.RegisterSendOnly(sendIR)
//	sendAPI := webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithInterceptorRegistry(sendIR), ...)
//	metrics, err := forward.NewMetrics(reg)
//	writers := forward.NewWriterPool(runtime.GOMAXPROCS(0), log) // Close it last
//
// For each PeerConnection, right after creating it:
//
//	pc, _ := api.NewPeerConnection(cfg)
//	est := ccl.Estimator(pc) // this PC's send-side bandwidth estimate
//
// When a publisher's track is announced and negotiated (its kind and codec
// are known from the SDP; media may come later):
//
//	recv := forward.NewReceiver(forward.ReceiverParams{
//		TrackID: trackSID, StreamID: participantSID, Kind: kind,
//		Codec: negotiatedCodec, SharedClock: isIngest, Metrics: metrics, Logger: log,
//		Writers: writers,
//		RequestKeyframe: func(ssrc uint32) {
//			_ = pubPC.WriteRTCP([]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: ssrc}})
//		},
//	})
//	// then, as each layer's media arrives (OnTrack fires once per layer):
//	_ = recv.AddLayer(track, rtpReceiver)
//
// DownTracks may be added before any layer: they forward from the first
// key frame of the layer they select once it is live. A track published
// again (a new ladder, the same RIDs) gets a new Receiver, not new layers.
//
// To subscribe someone:
//
//	dt := forward.NewDownTrack(recv, forward.DownTrackParams{SubscriberID: identity, Estimator: est,
//		Batcher: batch}) // optional: groups a turn's packets into one send (rooms: UDP GSO)
//	sender, err := subPC.AddTrack(dt) // or AddTransceiverFromTrack(dt, sendonly)
//	dt.Start(sender)                  // reads RTCP; dt now owns the sender
//	_ = recv.AddDownTrack(dt)
//	// renegotiate; Bind happens when the answer is applied.
//	dt.SetMaxQuality(forward.QualityMedium) // from UpdateTrackSettings
//
// Non-zero SetMaxDimensions take precedence over SetMaxQuality (except
// QualityOff), as in LiveKit's UpdateTrackSettings, whose quality is then
// left at its zero value, LOW.
//
// To unsubscribe: recv.RemoveDownTrack(identity); dt.Close();
// subPC.RemoveTrack(sender); renegotiate. When the publisher leaves:
// recv.Close() closes all of its DownTracks (watch dt.Done()).
package forward
