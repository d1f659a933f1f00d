import { useEffect, useRef, useState } from "preact/hooks";
import type { PartySession, SessionState } from "../session";
import { IconButton } from "../ui";
import { Emoji, REACTIONS, emojiName } from "../emoji";


/** ReactionBar sends floating reactions. */
export function ReactionBar({ session }: { session: PartySession }) {
  return (
    <div class="reaction-bar" role="group" aria-label="Send a reaction">
      {REACTIONS.map((e) => (
        <button type="button" key={e} class="emoji-btn" aria-label={`React with ${emojiName(e)}`} title={emojiName(e)} onClick={() => void session.sendReaction(e)}>
          <Emoji e={e} size={24} />
        </button>
      ))}
    </div>
  );
}

/** Chat shows the room's messages and sends new ones. */
export function Chat({ session, st }: { session: PartySession; st: SessionState }) {
  const [text, setText] = useState("");
  const list = useRef<HTMLOListElement>(null);
  useEffect(() => {
    const el = list.current;
    if (el) el.scrollTop = el.scrollHeight;
  }, [st.chat.length]);
  const send = (e: Event) => {
    e.preventDefault();
    if (!text.trim()) return;
    void session.sendChat(text);
    setText("");
  };
  return (
    <section class="panel chat" aria-labelledby="chat-h">
      <h2 id="chat-h">Chat</h2>
      <ol class="chat-list" ref={list} aria-live="polite" data-testid="chat-list">
        {st.chat.length === 0 && <li class="muted">No messages yet. Say hello.</li>}
        {st.chat.map((m) => (
          <li key={m.id} class={m.mine ? "mine" : ""}>
            <strong>{m.from}</strong> <span>{m.text}</span>
          </li>
        ))}
      </ol>
      <form class="chat-form" onSubmit={send}>
        <input
          value={text}
          maxLength={500}
          placeholder="Message"
          aria-label="Chat message"
          onInput={(e) => setText(e.currentTarget.value)}
          disabled={st.conn !== "connected"}
        />
        <IconButton icon="send" label="Send message" submit disabled={!text.trim()} />
      </form>
    </section>
  );
}
