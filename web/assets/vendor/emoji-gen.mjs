// Generates ../emoji.json from the emojibase-data npm package:
//
//   cd /tmp && npm pack emojibase-data@17.0.0 && tar -xzf emojibase-data-17.0.0.tgz
//   node web/assets/vendor/emoji-gen.mjs /tmp/package > web/assets/emoji.json
//
// Output: a JSON array of [shortcode, emoji, group], one row per shortcode
// (emojibase shortcodes), in emoji order. Skin-tone variants and the
// "component" group (skin tones, hair styles, regional letters) are left out.
// group is the emojibase group number: 0 smileys-emotion, 1 people-body,
// 3 animals-nature, 4 food-drink, 5 travel-places, 6 activities, 7 objects,
// 8 symbols, 9 flags.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.argv[2];
if (!dir) {
  console.error('usage: node emoji-gen.mjs <extracted emojibase-data package folder>');
  process.exit(2);
}
const read = (p) => JSON.parse(readFileSync(join(dir, p), 'utf8'));
const data = read('en/data.json');
const shortcodes = read('en/shortcodes/emojibase.json');

const rows = [];
const seen = new Set();
for (const e of [...data].sort((a, b) => (a.order ?? 1e9) - (b.order ?? 1e9))) {
  if (e.group === undefined || e.group === 2) continue;
  const codes = shortcodes[e.hexcode];
  if (!codes) continue;
  for (const code of Array.isArray(codes) ? codes : [codes]) {
    if (seen.has(code)) continue;
    seen.add(code);
    rows.push([code, e.emoji, e.group]);
  }
}
process.stdout.write('[' + rows.map((r) => JSON.stringify(r)).join(',\n') + ']\n');
