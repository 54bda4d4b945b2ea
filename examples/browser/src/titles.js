// Item titles for the "Your taste" panel's search box: invented ones for the synthetic data, or
// MovieLens's u.item (id|title|release date|…) dropped beside u.data.

const ADJECTIVES = ['Silent', 'Golden', 'Broken', 'Hidden', 'Crimson', 'Last', 'Wild', 'Quiet', 'Electric', 'Lonely'];
const ADJECTIVES2 = ['Frozen', 'Burning', 'Secret', 'Midnight', 'Distant', 'Iron', 'Paper', 'Glass', 'Velvet', 'Northern'];
const NOUNS = ['Harbor', 'Garden', 'Engine', 'Letters', 'River', 'Kingdom', 'Orchestra', 'Summer', 'Station', 'Mirror'];

/** `[id, title]` for the synthetic items item-0 … item-(count−1): "The Silent Harbor (1987)", unique per item. */
export function syntheticTitles(count) {
  const adjectives = [...ADJECTIVES, ...ADJECTIVES2];
  return Array.from({ length: count + 1 }, (_, i) => {
    const adjective = adjectives[i % adjectives.length];
    const noun = NOUNS[Math.floor(i / adjectives.length) % NOUNS.length];
    const round = Math.floor(i / (adjectives.length * NOUNS.length));
    const year = 1950 + ((i * 37) % 70);
    return [`item-${i}`, `The ${adjective} ${noun}${round ? ` ${round + 1}` : ''} (${year})`];
  });
}

/** Whether a dropped file holds titles rather than events: MovieLens's u.item. */
export function isTitleFile({ name }) {
  return /(^|[\\/])u\.item$/i.test(name);
}

/** `[id, title]` pairs from u.item's lines (id|title|…); lines without both are skipped. */
export function readItemTitles(text) {
  const out = [];
  for (const line of text.split(/\r?\n/)) {
    const [id, title] = line.split('|');
    if (id?.trim() && title?.trim()) out.push([id.trim(), title.trim()]);
  }
  return out;
}
