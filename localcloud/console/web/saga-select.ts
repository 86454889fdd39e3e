/** The Saga selector (top bar): shown when the app config has several sagas; a choice reloads the page. */
import type { ChoicesResponse } from '../api';
import { $, options } from './dom';

export function renderSagaSelector(choices: ChoicesResponse): void {
  const select = $('saga-select') as HTMLSelectElement;
  select.replaceChildren(...options(choices.sagas, choices.saga));
  $('saga-choice').hidden = choices.sagas.length < 2;
  select.addEventListener('change', () => {
    location.search = `?saga=${encodeURIComponent(select.value)}`;
  });
}
