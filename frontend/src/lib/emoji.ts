/** Common emoji short names (Slack/GitHub style) to characters. Small on purpose: a picker, not a catalogue. */
export const EMOJI: Record<string, string> = {
  '+1': '👍',
  thumbsup: '👍',
  '-1': '👎',
  thumbsdown: '👎',
  heart: '❤️',
  tada: '🎉',
  eyes: '👀',
  white_check_mark: '✅',
  joy: '😂',
  smile: '😄',
  slightly_smiling_face: '🙂',
  grin: '😁',
  wink: '😉',
  thinking_face: '🤔',
  raised_hands: '🙌',
  clap: '👏',
  pray: '🙏',
  fire: '🔥',
  rocket: '🚀',
  '100': '💯',
  sob: '😭',
  cry: '😢',
  sweat_smile: '😅',
  heart_eyes: '😍',
  sunglasses: '😎',
  ok_hand: '👌',
  wave: '👋',
  muscle: '💪',
  star: '⭐',
  sparkles: '✨',
  bulb: '💡',
  warning: '⚠️',
  x: '❌',
  heavy_check_mark: '✔️',
  question: '❓',
  exclamation: '❗',
  coffee: '☕',
  pizza: '🍕',
  beers: '🍻',
  party_popper: '🎉',
  partying_face: '🥳',
  zap: '⚡',
  bug: '🐛',
  memo: '📝',
  calendar: '📅',
  speech_balloon: '💬',
  point_up: '☝️',
  see_no_evil: '🙈',
  skull: '💀',
  upside_down_face: '🙃',
  confused: '😕',
  scream: '😱',
  smiley: '😃',
  laughing: '😆',
  hugging_face: '🤗',
  thinking: '🤔',
  white_heart: '🤍',
  green_heart: '💚',
  blue_heart: '💙',
  purple_heart: '💜',
};

/** The names offered in the reaction picker, in display order. */
export const PICKER_EMOJI = [
  '+1', 'heart', 'tada', 'eyes', 'white_check_mark', 'joy', 'raised_hands', 'fire',
  'rocket', 'pray', 'clap', '100', 'thinking_face', 'smile', 'sob', 'heart_eyes',
  'ok_hand', 'wave', 'muscle', 'sparkles', 'bulb', 'warning', 'x', '-1',
  'coffee', 'bug', 'memo', 'see_no_evil', 'sweat_smile', 'sunglasses', 'zap', 'star',
];

/** Renders a reaction key (short name, `:name:`, or an emoji character) as a character. */
export function emojiChar(nameOrChar: string): string {
  const name = nameOrChar.replace(/^:|:$/g, '');
  return EMOJI[name] ?? nameOrChar;
}

/** The short name sent to the API for a reaction. */
export function emojiName(nameOrChar: string): string {
  const name = nameOrChar.replace(/^:|:$/g, '');
  if (EMOJI[name]) return name;
  const found = Object.entries(EMOJI).find(([, ch]) => ch === nameOrChar);
  return found ? found[0] : nameOrChar;
}

/** Two reaction keys denote the same emoji (`thumbsup` and `+1`, or a name and its character). */
export function sameEmoji(a: string, b: string): boolean {
  return emojiChar(a) === emojiChar(b);
}
