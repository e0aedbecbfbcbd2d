// gateway-bench's "quickfix" server: QuickFIX's own C++ acceptor answering the benchmark's
// FIX 4.4 messages as an exchange would, the peer a FIX user knows. Written after the
// "executor" example of libquickfix-doc (a SocketAcceptor whose Application cracks
// NewOrderSingle and answers with an ExecutionReport), changed only in what it answers:
//   NewOrderSingle      -> ExecutionReport ExecType New (0), OrdStatus New, LeavesQty = OrderQty
//   OrderCancelRequest  -> ExecutionReport ExecType Canceled (4), OrdStatus Canceled, LeavesQty 0
// (the executor fills every order at once and has no cancel). No matching, no risk: what is
// measured is QuickFIX's session layer, validation against the FIX44.xml data dictionary,
// message parsing and building. Sessions are kept in memory (MemoryStore) and nothing is
// logged: the fastest setup QuickFIX offers, not the example's FileStore and screen log.
//
// Built by benchmarks/fix.sh (g++ -O2 against Debian's libquickfix-dev); run by gateway-bench:
//   quickfix-acceptor SETTINGS_FILE
// It serves the settings' sessions on the calling thread (SocketAcceptor::block) until killed.
#include <quickfix/Application.h>
#include <quickfix/MessageStore.h>
#include <quickfix/MessageCracker.h>
#include <quickfix/Session.h>
#include <quickfix/SessionSettings.h>
#include <quickfix/SocketAcceptor.h>
#include <quickfix/fix44/ExecutionReport.h>
#include <quickfix/fix44/NewOrderSingle.h>
#include <quickfix/fix44/OrderCancelRequest.h>

#include <iostream>
#include <sstream>
#include <string>

class Exchange : public FIX::Application, public FIX::MessageCracker {
public:
    void onCreate(const FIX::SessionID&) override {}
    void onLogon(const FIX::SessionID&) override {}
    void onLogout(const FIX::SessionID&) override {}
    void toAdmin(FIX::Message&, const FIX::SessionID&) override {}
    void toApp(FIX::Message&, const FIX::SessionID&) throw(FIX::DoNotSend) override {}
    void fromAdmin(const FIX::Message&, const FIX::SessionID&)
        throw(FIX::FieldNotFound, FIX::IncorrectDataFormat, FIX::IncorrectTagValue, FIX::RejectLogon) override {}
    void fromApp(const FIX::Message& message, const FIX::SessionID& session)
        throw(FIX::FieldNotFound, FIX::IncorrectDataFormat, FIX::IncorrectTagValue, FIX::UnsupportedMessageType) override {
        crack(message, session);
    }

    void onMessage(const FIX44::NewOrderSingle& order, const FIX::SessionID& session) override {
        FIX::ClOrdID clOrdID;
        FIX::Symbol symbol;
        FIX::Side side;
        FIX::OrderQty quantity;
        FIX::OrdType ordType;
        order.get(clOrdID);
        order.get(symbol);
        order.get(side);
        order.get(quantity);
        order.get(ordType);
        FIX44::ExecutionReport report{FIX::OrderID{nextID()}, FIX::ExecID{nextID()}, FIX::ExecType(FIX::ExecType_NEW),
                                      FIX::OrdStatus(FIX::OrdStatus_NEW), side, FIX::LeavesQty(quantity),
                                      FIX::CumQty(0), FIX::AvgPx(0)};
        report.set(clOrdID);
        report.set(symbol);
        report.set(quantity);
        report.set(ordType);
        FIX::Price price;
        if (order.isSet(price)) report.set(order.get(price));
        send(report, session);
    }

    void onMessage(const FIX44::OrderCancelRequest& cancel, const FIX::SessionID& session) override {
        FIX::ClOrdID clOrdID;
        FIX::OrigClOrdID origClOrdID;
        FIX::Symbol symbol;
        FIX::Side side;
        cancel.get(clOrdID);
        cancel.get(origClOrdID);
        cancel.get(symbol);
        cancel.get(side);
        FIX44::ExecutionReport report{FIX::OrderID{nextID()}, FIX::ExecID{nextID()}, FIX::ExecType(FIX::ExecType_CANCELED),
                                      FIX::OrdStatus(FIX::OrdStatus_CANCELED), side, FIX::LeavesQty(0),
                                      FIX::CumQty(0), FIX::AvgPx(0)};
        report.set(clOrdID);
        report.set(origClOrdID);
        report.set(symbol);
        send(report, session);
    }

private:
    unsigned long ids = 0;

    std::string nextID() {
        std::ostringstream text;
        text << ++ids;
        return text.str();
    }

    static void send(FIX::Message& message, const FIX::SessionID& session) {
        try {
            FIX::Session::sendToTarget(message, session);
        } catch (FIX::SessionNotFound&) {
        }
    }
};

int main(int argc, char** argv) {
    if (argc != 2) {
        std::cerr << "usage: " << argv[0] << " SETTINGS_FILE" << std::endl;
        return 2;
    }
    try {
        FIX::SessionSettings settings(argv[1]);
        Exchange application;
        FIX::MemoryStoreFactory store;
        FIX::SocketAcceptor acceptor(application, store, settings);
        acceptor.block();
        return 0;
    } catch (std::exception& error) {
        std::cerr << "quickfix-acceptor: " << error.what() << std::endl;
        return 1;
    }
}
