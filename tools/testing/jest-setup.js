// Integration tests talk to real servers over TCP: give them more than Jest's 5 s default.
jest.setTimeout(30000);
