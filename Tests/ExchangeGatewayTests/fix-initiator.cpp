// A real FIX 4.4 peer for the gateway's FIX port: QuickFIX's own initiator (Debian's
// libquickfix-dev), scripted. Built by .ci/quickfix-initiator; run by
// Tests/ExchangeGatewayTests/QuickFIXGatewayTests.swift, which reads its stdout lines:
//
//   RECV <message>        every message RTES sent (SOH shown as |)
//   INVALID <why> <msg>   a message FIX44.xml (strict: field order, values, user fields) refuses
//   QUICKFIX-REJECT <msg> a Reject (3) or BusinessMessageReject (j) QuickFIX sent RTES
//   STEP <name>           the script reached a step
//   DONE | FAIL <why>     the end (exit status 0 | 1)
//
//   fix-initiator FIX44.xml PORT STOREDIR USERNAME PASSWORD trade|recover|order|watch|watch-recover [CAFILE [CERT KEY]]
//
// trade: Logon; NewOrderSingle B1 (buy 100 AAPL 230) → New; replace to B2 (200) → Replaced;
// status of B2 → Order Status; "STEP ready-for-trade", then an OUCH client sells 50 → Trade;
// cancel B2 (B3) → Canceled; NewOrderSingle D1 (buy 100 AAPL 229) → New; "STEP cut" and the
// process ends without a Logout (the connection is cut). recover (same STOREDIR, so QuickFIX
// keeps its sequence numbers): Logon; RTES's Logon is ahead of what QuickFIX expects, so
// QuickFIX asks with ResendRequest and must get D1's Trade (filled while it was away) again
// with PossDupFlag=Y; then Logout. order: Logon; NewOrderSingle T1 → New; Logout.
// watch (the drop-copy port): Logon; "STEP watching"; wait for the ExecutionReport New of
// ClOrdID LAST (whoever's order it is); send a NewOrderSingle, which the read-only session
// must answer with BusinessMessageReject (j); "STEP rejected"; Logout. watch-recover (same
// STOREDIR): Logon, ResendRequest as for recover, until LAST's New comes again with
// PossDupFlag=Y; Logout.
// With CAFILE the connection is TLS (QuickFIX's SSLSocketInitiator, the server's certificate
// checked against CAFILE; CERT and KEY: a client certificate for mutual TLS).
#include <quickfix/Application.h>
#include <quickfix/DataDictionary.h>
#include <quickfix/FileLog.h>
#include <quickfix/FileStore.h>
#include <quickfix/Log.h>
#include <quickfix/Message.h>
#include <quickfix/Session.h>
#include <quickfix/SessionSettings.h>
#include <quickfix/SocketInitiator.h>
#include <quickfix/SSLSocketInitiator.h>
#include <quickfix/fix44/NewOrderSingle.h>
#include <quickfix/fix44/OrderCancelReplaceRequest.h>
#include <quickfix/fix44/OrderCancelRequest.h>
#include <quickfix/fix44/OrderStatusRequest.h>
#include <unistd.h>
#include <chrono>
#include <condition_variable>
#include <iostream>
#include <mutex>
#include <sstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

static std::mutex outputLock;
static void say(const std::string& line) {
  std::lock_guard<std::mutex> guard(outputLock);
  std::cout << line << std::endl;
}
static std::string shown(const FIX::Message& m) {
  std::string s = m.toString();
  for (auto& c : s) if (c == '\x01') c = '|';
  return s;
}

struct Received {
  std::string type, clOrdID, origClOrdID, execType, ordStatus, possDup;
  std::string lastQty, lastPx;
};

class Peer : public FIX::Application {
 public:
  Peer(const std::string& xml, std::string user, std::string password)
      : dd(xml), user(std::move(user)), password(std::move(password)) {
    dd.checkFieldsOutOfOrder(true);
    dd.checkFieldsHaveValues(true);
    dd.checkUserDefinedFields(true);
  }
  FIX::DataDictionary dd;
  std::string user, password;
  std::mutex lock;
  std::condition_variable changed;
  std::vector<Received> received;
  bool loggedOn = false;
  bool loggedOut = false;
  FIX::SessionID session;

  void onCreate(const FIX::SessionID&) override {}
  void onLogon(const FIX::SessionID& id) override {
    std::lock_guard<std::mutex> g(lock);
    session = id;
    loggedOn = true;
    say("LOGON");
    changed.notify_all();
  }
  void onLogout(const FIX::SessionID&) override {
    std::lock_guard<std::mutex> g(lock);
    loggedOn = false;
    loggedOut = true;
    changed.notify_all();
  }
  void toAdmin(FIX::Message& m, const FIX::SessionID&) override {
    FIX::MsgType type;
    m.getHeader().getField(type);
    if (type == FIX::MsgType_Logon) {
      m.setField(FIX::Username(user));
      m.setField(FIX::Password(password));
    }
    if (type == FIX::MsgType_Reject) say("QUICKFIX-REJECT " + shown(m));
  }
  void toApp(FIX::Message& m, const FIX::SessionID&) throw(FIX::DoNotSend) override {
    FIX::MsgType type;
    m.getHeader().getField(type);
    if (type == FIX::MsgType_BusinessMessageReject) say("QUICKFIX-REJECT " + shown(m));
  }
  void fromAdmin(const FIX::Message& m, const FIX::SessionID&)
      throw(FIX::FieldNotFound, FIX::IncorrectDataFormat, FIX::IncorrectTagValue, FIX::RejectLogon) override {
    note(m);
  }
  void fromApp(const FIX::Message& m, const FIX::SessionID&)
      throw(FIX::FieldNotFound, FIX::IncorrectDataFormat, FIX::IncorrectTagValue, FIX::UnsupportedMessageType) override {
    note(m);
  }

  void note(const FIX::Message& m) {
    say("RECV " + shown(m));
    try {
      FIX::Message strict(m.toString(), dd, true);
      FIX::DataDictionary::validate(strict, &dd, &dd);
    } catch (std::exception& e) {
      say(std::string("INVALID ") + e.what() + " " + shown(m));
    }
    Received r;
    r.type = m.getHeader().getField(FIX::FIELD::MsgType);
    auto get = [&](int tag) { return m.isSetField(tag) ? m.getField(tag) : std::string(); };
    r.clOrdID = get(FIX::FIELD::ClOrdID);
    r.origClOrdID = get(FIX::FIELD::OrigClOrdID);
    r.execType = get(FIX::FIELD::ExecType);
    r.ordStatus = get(FIX::FIELD::OrdStatus);
    r.lastQty = get(FIX::FIELD::LastQty);
    r.lastPx = get(FIX::FIELD::LastPx);
    r.possDup = m.getHeader().isSetField(FIX::FIELD::PossDupFlag) ? m.getHeader().getField(FIX::FIELD::PossDupFlag) : "";
    std::lock_guard<std::mutex> g(lock);
    received.push_back(r);
    changed.notify_all();
  }

  // Waits (at most 60 s) for an ExecutionReport of `clOrdID` with ExecType `execType`
  // (and PossDupFlag Y when `possDup`).
  bool awaitReport(const std::string& clOrdID, const std::string& execType, bool possDup = false) {
    std::unique_lock<std::mutex> g(lock);
    return changed.wait_for(g, std::chrono::seconds(60), [&] {
      for (auto& r : received)
        if (r.type == "8" && r.clOrdID == clOrdID && r.execType == execType && (!possDup || r.possDup == "Y")) return true;
      return false;
    });
  }
  // Waits (at most 60 s) for a message of type `type`.
  bool awaitType(const std::string& type) {
    std::unique_lock<std::mutex> g(lock);
    return changed.wait_for(g, std::chrono::seconds(60), [&] {
      for (auto& r : received)
        if (r.type == type) return true;
      return false;
    });
  }
  bool awaitLogon() {
    std::unique_lock<std::mutex> g(lock);
    return changed.wait_for(g, std::chrono::seconds(60), [&] { return loggedOn; });
  }
  bool awaitLogout() {
    std::unique_lock<std::mutex> g(lock);
    return changed.wait_for(g, std::chrono::seconds(30), [&] { return loggedOut; });
  }
};

static FIX::UtcTimeStamp now() { return FIX::UtcTimeStamp(); }

static void send(FIX::Message& m, const FIX::SessionID& id) { FIX::Session::sendToTarget(m, id); }

static int fail(const std::string& why) {
  say("FAIL " + why);
  std::cout.flush();
  _exit(1);
}

int main(int argc, char** argv) {
  if (argc != 7 && argc != 8 && argc != 10) {
    std::cerr << "usage: fix-initiator FIX44.xml PORT STOREDIR USERNAME PASSWORD trade|recover|order|watch|watch-recover [CAFILE [CERT KEY]]\n";
    return 2;
  }
  std::string xml = argv[1], port = argv[2], store = argv[3], user = argv[4], password = argv[5], phase = argv[6];
  try {
    std::stringstream config;
    config << "[DEFAULT]\nConnectionType=initiator\nReconnectInterval=1\nFileStorePath=" << store << "\nFileLogPath=" << store
           << "\nStartTime=00:00:00\nEndTime=00:00:00\nUseDataDictionary=Y\nDataDictionary=" << xml
           << "\nValidateUserDefinedFields=Y\nValidateFieldsOutOfOrder=Y\nValidateFieldsHaveValues=Y\nHeartBtInt=5"
           << "\nSocketConnectHost=127.0.0.1\nSocketConnectPort=" << port << "\nResetOnLogon=N\nPersistMessages=Y\n"
           << "CertificateVerifyLevel=1\n"
           << (argc >= 8 ? std::string("CertificationAuthoritiesFile=") + argv[7] + "\n" : std::string())
           << (argc == 10 ? std::string("ClientCertificateFile=") + argv[8] + "\nClientCertificateKeyFile=" + argv[9] + "\n" : std::string())
           << "[SESSION]\nBeginString=FIX.4.4\nSenderCompID=" << user << "\nTargetCompID=RTES\n";
    FIX::SessionSettings settings(config);
    Peer peer(xml, user, password);
    FIX::FileStoreFactory stores(settings);
    FIX::FileLogFactory logs(settings);
    std::unique_ptr<FIX::Initiator> initiator;
    if (argc >= 8) initiator.reset(new FIX::SSLSocketInitiator(peer, stores, settings, logs));
    else initiator.reset(new FIX::SocketInitiator(peer, stores, settings, logs));
    initiator->start();
    if (!peer.awaitLogon()) fail("no Logon from RTES within 60 s");
    FIX::SessionID id = peer.session;

    if (phase == "watch") {
      say("STEP watching");
      if (!peer.awaitReport("LAST", "0")) fail("no drop-copy ExecutionReport New for LAST");
      FIX44::NewOrderSingle x1(FIX::ClOrdID("X1"), FIX::Side_BUY, FIX::TransactTime(now()), FIX::OrdType_LIMIT);
      x1.set(FIX::Symbol("AAPL"));
      x1.set(FIX::OrderQty(100));
      x1.set(FIX::Price(229));
      send(x1, id);
      if (!peer.awaitType("j")) fail("no BusinessMessageReject for a NewOrderSingle on the drop copy");
      say("STEP rejected");
      initiator->stop();
      say("DONE");
      std::cout.flush();
      _exit(0);
    }
    if (phase == "watch-recover") {
      if (!peer.awaitReport("LAST", "0", true)) fail("LAST's New was not resent (PossDupFlag=Y) on the drop copy");
      say("STEP recovered");
      initiator->stop();
      say("DONE");
      std::cout.flush();
      _exit(0);
    }
    if (phase == "order") {
      FIX44::NewOrderSingle t1(FIX::ClOrdID("T1"), FIX::Side_BUY, FIX::TransactTime(now()), FIX::OrdType_LIMIT);
      t1.set(FIX::Symbol("AAPL"));
      t1.set(FIX::OrderQty(100));
      t1.set(FIX::Price(229));
      send(t1, id);
      if (!peer.awaitReport("T1", "0")) fail("no ExecutionReport New for T1");
      say("STEP new");
      initiator->stop();
      say("DONE");
      std::cout.flush();
      _exit(0);
    }
    if (phase == "trade") {
      FIX44::NewOrderSingle b1(FIX::ClOrdID("B1"), FIX::Side_BUY, FIX::TransactTime(now()), FIX::OrdType_LIMIT);
      b1.set(FIX::Symbol("AAPL"));
      b1.set(FIX::OrderQty(100));
      b1.set(FIX::Price(230));
      b1.set(FIX::TimeInForce(FIX::TimeInForce_DAY));
      send(b1, id);
      if (!peer.awaitReport("B1", "0")) fail("no ExecutionReport New for B1");
      say("STEP new");

      FIX44::OrderCancelReplaceRequest b2(FIX::OrigClOrdID("B1"), FIX::ClOrdID("B2"), FIX::Side_BUY, FIX::TransactTime(now()),
                                          FIX::OrdType_LIMIT);
      b2.set(FIX::Symbol("AAPL"));
      b2.set(FIX::OrderQty(200));
      b2.set(FIX::Price(230));
      send(b2, id);
      if (!peer.awaitReport("B2", "5")) fail("no ExecutionReport Replaced for B2");
      say("STEP replaced");

      FIX44::OrderStatusRequest status(FIX::ClOrdID("B2"), FIX::Side_BUY);
      status.set(FIX::Symbol("AAPL"));
      send(status, id);
      if (!peer.awaitReport("B2", "I")) fail("no ExecutionReport Order Status for B2");
      say("STEP status");

      say("STEP ready-for-trade");
      if (!peer.awaitReport("B2", "F")) fail("no ExecutionReport Trade for B2");
      say("STEP traded");

      FIX44::OrderCancelRequest b3(FIX::OrigClOrdID("B2"), FIX::ClOrdID("B3"), FIX::Side_BUY, FIX::TransactTime(now()));
      b3.set(FIX::Symbol("AAPL"));
      send(b3, id);
      if (!peer.awaitReport("B3", "4")) fail("no ExecutionReport Canceled for B3");
      say("STEP canceled");

      FIX44::NewOrderSingle d1(FIX::ClOrdID("D1"), FIX::Side_BUY, FIX::TransactTime(now()), FIX::OrdType_LIMIT);
      d1.set(FIX::Symbol("AAPL"));
      d1.set(FIX::OrderQty(100));
      d1.set(FIX::Price(229));
      send(d1, id);
      if (!peer.awaitReport("D1", "0")) fail("no ExecutionReport New for D1");
      say("STEP cut");
      std::cout.flush();
      _exit(0);  // no Logout: the connection is cut
    }
    // recover: what was missed comes through ResendRequest, marked PossDupFlag=Y.
    if (!peer.awaitReport("D1", "F", true)) fail("D1's Trade was not resent (PossDupFlag=Y) after the reconnect");
    say("STEP recovered");
    initiator->stop();
    say("DONE");
    std::cout.flush();
    _exit(0);
  } catch (std::exception& e) {
    fail(std::string("quickfix: ") + e.what());
  }
  return 1;
}
