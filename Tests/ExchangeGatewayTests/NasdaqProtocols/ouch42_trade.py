"""Nasdaq's own client library (PyPI `nasdaq-protocols`) against the RTES order gateway.

Two SoupBinTCP sessions log in with the package's client (DEMO1 from sequence 1, DEMO2 from
the newest message), DEMO1 rests a sell, DEMO2 buys it in two pieces, and every OUCH 4.2
message the package decodes must carry the right fields: System Event, Accepted, Executed
on both sides with one match number per trade. The OUCH 4.2 messages are declared the way
the package's code generator writes them (`nasdaq-ouch-codegen`'s template), so the bytes are
framed, unpacked and typed by the package itself.

    python ouch42_trade.py HOST PORT

Prints one JSON line with what was received; exits 1 with the first mismatch on stderr.
"""
import asyncio
import json
import sys

from nasdaq_protocols import ouch
from nasdaq_protocols.common.message import Field, Record
from nasdaq_protocols.common.message.types import (CharAscii, FixedAsciiString, UnsignedIntBE,
                                                   UnsignedLongBE)

APP = 'RTES_OUCH42'


class Message(ouch.Message, app_name=APP):
    def __init_subclass__(cls, **kwargs):
        kwargs['app_name'] = APP
        super().__init_subclass__(**kwargs)


class ClientSession(ouch.ClientSession):
    def decode(self, bytes_: bytes):
        return Message.from_bytes(bytes_)


def token(name):
    return Field(name, FixedAsciiString(length=14))


class EnterOrder(Message, indicator=ord('O'), direction='incoming'):
    class BodyRecord(Record):
        Fields = [token('order_token'), Field('buy_sell', CharAscii), Field('shares', UnsignedIntBE),
                  Field('stock', FixedAsciiString(length=8)), Field('price', UnsignedIntBE),
                  Field('time_in_force', UnsignedIntBE), Field('firm', FixedAsciiString(length=4)),
                  Field('display', CharAscii), Field('capacity', CharAscii), Field('iso', CharAscii),
                  Field('minimum_quantity', UnsignedIntBE), Field('cross_type', CharAscii),
                  Field('customer_type', CharAscii)]


class SystemEvent(Message, indicator=ord('S'), direction='outgoing'):
    class BodyRecord(Record):
        Fields = [Field('timestamp', UnsignedLongBE), Field('event_code', CharAscii)]


class Accepted(Message, indicator=ord('A'), direction='outgoing'):
    class BodyRecord(Record):
        Fields = [Field('timestamp', UnsignedLongBE), token('order_token'), Field('buy_sell', CharAscii),
                  Field('shares', UnsignedIntBE), Field('stock', FixedAsciiString(length=8)),
                  Field('price', UnsignedIntBE), Field('time_in_force', UnsignedIntBE),
                  Field('firm', FixedAsciiString(length=4)), Field('display', CharAscii),
                  Field('order_reference_number', UnsignedLongBE), Field('capacity', CharAscii),
                  Field('iso', CharAscii), Field('minimum_quantity', UnsignedIntBE),
                  Field('cross_type', CharAscii), Field('order_state', CharAscii),
                  Field('bbo_weight_indicator', CharAscii)]


class Replaced(Message, indicator=ord('U'), direction='outgoing'):
    class BodyRecord(Record):
        Fields = Accepted.BodyRecord.Fields[:-1] + [token('previous_order_token'),
                                                     Field('bbo_weight_indicator', CharAscii)]


class Canceled(Message, indicator=ord('C'), direction='outgoing'):
    class BodyRecord(Record):
        Fields = [Field('timestamp', UnsignedLongBE), token('order_token'), Field('decrement_shares', UnsignedIntBE),
                  Field('reason', CharAscii)]


class Executed(Message, indicator=ord('E'), direction='outgoing'):
    class BodyRecord(Record):
        Fields = [Field('timestamp', UnsignedLongBE), token('order_token'), Field('executed_shares', UnsignedIntBE),
                  Field('execution_price', UnsignedIntBE), Field('liquidity_flag', CharAscii),
                  Field('match_number', UnsignedLongBE)]


class Rejected(Message, indicator=ord('J'), direction='outgoing'):
    class BodyRecord(Record):
        Fields = [Field('timestamp', UnsignedLongBE), token('order_token'), Field('reason', CharAscii)]


class CancelReject(Message, indicator=ord('I'), direction='outgoing'):
    class BodyRecord(Record):
        Fields = [Field('timestamp', UnsignedLongBE), token('order_token')]


class OrderModified(Message, indicator=ord('M'), direction='outgoing'):
    class BodyRecord(Record):
        Fields = [Field('timestamp', UnsignedLongBE), token('order_token'), Field('buy_sell', CharAscii),
                  Field('shares', UnsignedIntBE)]


HOST = '127.0.0.1'
PRICE = 2_300_000  # $230.00, 4 implied decimals
failures = []


def expect(what, actual, expected):
    if actual != expected:
        failures.append(f'{what}: got {actual!r}, expected {expected!r}')


async def connect(port, user, password, sequence):
    return await ouch.connect_async((HOST, port), user, password, '', sequence=sequence,
                                    session_factory=lambda soup_session: ClientSession(soup_session),
                                    client_heartbeat_interval=1, server_heartbeat_interval=10)


async def receive(session, kind):
    message = await asyncio.wait_for(session.receive_message(), timeout=5)
    if not isinstance(message, kind):
        raise AssertionError(f'expected {kind.__name__}, got {type(message).__name__}: {message}')
    return message


def enter(session, order_token, side, shares):
    message = EnterOrder()
    for field, value in [('order_token', order_token), ('buy_sell', side), ('shares', shares), ('stock', 'AAPL'),
                         ('price', PRICE), ('time_in_force', 99_999), ('firm', ''), ('display', 'Y'),
                         ('capacity', 'A'), ('iso', 'N'), ('minimum_quantity', 0), ('cross_type', 'N'),
                         ('customer_type', 'R')]:
        setattr(message, field, value)
    session.send_message(message)


def check_accepted(message, order_token, side, shares, firm):
    for field, value in [('order_token', order_token), ('buy_sell', side), ('shares', shares), ('stock', 'AAPL'),
                         ('price', PRICE), ('time_in_force', 99_999), ('firm', firm), ('display', 'Y'),
                         ('capacity', 'A'), ('iso', 'N'), ('minimum_quantity', 0), ('cross_type', 'N'),
                         ('order_state', 'L')]:
        expect(f'Accepted {order_token} {field}', getattr(message, field), value)
    if message.order_reference_number == 0:
        failures.append(f'Accepted {order_token}: order reference number 0')


def check_executed(message, order_token, shares, liquidity):
    expect(f'Executed {order_token} order_token', message.order_token, order_token)
    expect(f'Executed {order_token} executed_shares', message.executed_shares, shares)
    expect(f'Executed {order_token} execution_price', message.execution_price, PRICE)
    expect(f'Executed {order_token} liquidity_flag', message.liquidity_flag, liquidity)


async def main(port):
    seller = await connect(port, 'DEMO1', 'demo1pass', 1)
    start = await receive(seller, SystemEvent)
    expect('System Event code', start.event_code, 'S')

    enter(seller, 'NPSELL1', 'S', 100)
    resting = await receive(seller, Accepted)
    check_accepted(resting, 'NPSELL1', 'S', 100, 'DEM1')

    buyer = await connect(port, 'DEMO2', 'demo2pass', 0)
    trades = []
    for order_token, shares in [('NPBUY1', 60), ('NPBUY2', 40)]:
        enter(buyer, order_token, 'B', shares)
        check_accepted(await receive(buyer, Accepted), order_token, 'B', shares, 'DEM2')
        taker = await receive(buyer, Executed)
        check_executed(taker, order_token, shares, 'R')
        maker = await receive(seller, Executed)
        check_executed(maker, 'NPSELL1', shares, 'A')
        expect(f'match number of {order_token}', maker.match_number, taker.match_number)
        trades.append({'token': order_token, 'shares': shares, 'match': taker.match_number})
    if len({t['match'] for t in trades}) != 2:
        failures.append(f'match numbers not distinct: {trades}')

    for session in (seller, buyer):
        session.soup_session.logout()
    await asyncio.sleep(0.05)
    print(json.dumps({'accepted': 3, 'executed': 4, 'reference': resting.order_reference_number,
                      'trades': trades, 'failures': failures}))
    return 1 if failures else 0


if __name__ == '__main__':
    HOST = sys.argv[1]
    code = asyncio.run(main(int(sys.argv[2])))
    if failures:
        print('\n'.join(failures), file=sys.stderr)
    sys.exit(code)
