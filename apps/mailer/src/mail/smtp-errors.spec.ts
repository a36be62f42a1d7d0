import { isPermanentSmtpFailure } from './smtp-errors';

describe(isPermanentSmtpFailure.name, () => {
  it.each([
    [{ code: 'ECONNECTION', message: 'connect ECONNREFUSED' }, false],
    [{ code: 'ETIMEDOUT' }, false],
    [{ code: 'ESOCKET' }, false],
    [{ code: 'EENVELOPE', responseCode: 451 }, false],
    [{ code: 'EENVELOPE', responseCode: 550 }, true],
    [{ code: 'EMESSAGE', responseCode: 554 }, true],
    [{ code: 'EENVELOPE' }, true],
    [new Error('whatever'), false],
    [undefined, false],
  ])('%j → permanent %s', (error, permanent) => {
    expect(isPermanentSmtpFailure(error)).toBe(permanent);
  });
});
