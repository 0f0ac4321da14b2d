// publicName: how residents appear to each other (first name, initial, street without house number).
import t from 'tap';
import { FORMER_NEIGHBOUR, isFormerNeighbour, publicName } from '../../server/core/members/public-name.ts';

const street = { street: "Rue de l'Alzette" };
const cases: Array<[string, string, string]> = [
  ['first name, initial of the surname and the street', 'Anouk Thill', "Anouk T., Rue de l'Alzette"],
  ['a one-word name shows as typed', 'Anouk', "Anouk, Rue de l'Alzette"],
  ['particles drop out: the initial is that of the last word', 'Jean-Claude van der Berg', "Jean-Claude B., Rue de l'Alzette"],
  ['Portuguese double surnames: the last word', 'Maria dos Santos e Silva', "Maria S., Rue de l'Alzette"],
  ['an elided particle is not the initial', "Anne d'Huart", "Anne H., Rue de l'Alzette"],
  ['an apostrophe inside the name is kept', "Seán O'Brien", "Seán O., Rue de l'Alzette"],
  ['accents are kept', 'Élodie Ëmmerich', "Élodie Ë., Rue de l'Alzette"],
  ['a decomposed accent stays on its letter', 'Zoe E\u0301tienne', "Zoe É., Rue de l'Alzette"],
  ['a lower-case surname gives an upper-case initial', 'anouk thill', "anouk T., Rue de l'Alzette"],
  ['emoji are left out', '🌻 Anouk 👩‍👩‍👧 Thill 🇱🇺', "Anouk T., Rue de l'Alzette"],
  ['a name of emoji only shows as typed', '🌻🌻', "🌻🌻, Rue de l'Alzette"],
  ['extra spaces do not count', '  Anouk \t  Thill  ', "Anouk T., Rue de l'Alzette"],
  ['"Surname, First name" is read the right way round', 'Thill, Anouk', "Anouk T., Rue de l'Alzette"],
  ['a generational suffix is not the initial', 'Jean Schmit Jr.', "Jean S., Rue de l'Alzette"],
];
for (const [title, name, expected] of cases) {
  t.test(title, async (t) => {
    t.equal(publicName({ name }, street), expected);
  });
}

t.test('a very long first name is shortened; the result never holds the whole name', async (t) => {
  const long = 'Maximilianus'.repeat(10);
  const shown = publicName({ name: `${long} Thill` }, street);
  t.match(shown, /^Maximilianus.{11}… T\., Rue de l'Alzette$/u);
  t.ok([...shown.split(',')[0]!].length <= 27);
});

t.test('the house number never appears: only the street is used', async (t) => {
  t.equal(publicName({ name: 'Anouk Thill' }, { street: '  Rue  de   Luxembourg ' }), 'Anouk T., Rue de Luxembourg');
  t.equal(publicName({ name: 'Anouk Thill' }, { street: 'Rue de Luxembourg', number: '12A' } as { street: string }), 'Anouk T., Rue de Luxembourg');
});

t.test('without an address: only the name', async (t) => {
  t.equal(publicName({ name: 'Anouk Thill' }, null), 'Anouk T.');
  t.equal(publicName({ name: 'Anouk Thill' }, { street: null }), 'Anouk T.');
});

t.test('an erased account is a former neighbour, translated when a t function is given', async (t) => {
  t.ok(isFormerNeighbour({ name: FORMER_NEIGHBOUR }));
  t.ok(isFormerNeighbour({ name: 'Anything', deleted_at: 1 }));
  t.notOk(isFormerNeighbour({ name: 'former-neighbour' }), 'a name someone could type is not the marker');
  t.equal(publicName({ name: FORMER_NEIGHBOUR }, street, (k) => (k === 'board:directory.formerNeighbour' ? 'Former neighbour' : k)), 'Former neighbour');
  t.equal(publicName({ name: FORMER_NEIGHBOUR }, street), FORMER_NEIGHBOUR, 'without t, the marker for the caller to translate');
});

t.test('registration refuses the marker as a name, so no resident can be mistaken for a former neighbour', async (t) => {
  const { nameProblem } = await import('../../server/core/auth/auth.service.ts');
  t.ok(nameProblem(FORMER_NEIGHBOUR));
});
